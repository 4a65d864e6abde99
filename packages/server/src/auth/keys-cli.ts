// `npm run keys -- new <name> [--rpm N] [--streams N] [--tpm N] [--connections N]`:
// prints a new API key once, and the entry that stores only its hash.
import { parseArgs } from 'node:util';
import { apiKeyLimitsSchema, newApiKey } from './api-keys.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rpm: { type: 'string' },
    streams: { type: 'string' },
    tpm: { type: 'string' },
    connections: { type: 'string' },
  },
});
const [command, name] = positionals;
if (command !== 'new' || !name) {
  console.error('usage: npm run keys -- new <name> [--rpm N] [--streams N] [--tpm N] [--connections N]');
  process.exit(2);
}
const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
try {
  const limits = apiKeyLimitsSchema.parse({
    requestsPerMinute: number(values.rpm),
    concurrentStreams: number(values.streams),
    tokensPerMinute: number(values.tpm),
    maxConnections: number(values.connections),
  });
  const { key, entry } = newApiKey(name);
  const stored = Object.values(limits).some((v) => v !== undefined) ? { ...entry, limits } : entry;
  console.log(`API key for "${name}" (shown once; give it to the caller):\n\n  ${key}\n`);
  console.log(`Add to .env (comma-separate several):\n\n  TOKENFLOW_API_KEYS=${entry.name}:${entry.hash}\n`);
  console.log(
    `or, with limits, to the JSON list in TOKENFLOW_API_KEYS or TOKENFLOW_API_KEYS_FILE:\n\n  ${JSON.stringify(stored)}`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
