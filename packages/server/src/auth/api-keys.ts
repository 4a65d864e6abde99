import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { type Budgets, budgetsSchema } from '../budgets/budget-schema.ts';
import { keyLimitsSchema } from '../limits/index.ts';

/** What one API key may do: the rate limits plus how many WebSockets it may hold open. */
export const apiKeyLimitsSchema = keyLimitsSchema.extend({
  maxConnections: z.number().int().min(1).max(100_000).optional(),
});

export const apiKeyEntrySchema = z.strictObject({
  /** Shown in logs, errors and usage; never the key itself. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64'),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:" and 64 lowercase hex digits'),
  limits: apiKeyLimitsSchema.optional(),
  /** What the key may spend (checked before routing); over the BUDGET_* defaults. */
  budgets: budgetsSchema.optional(),
});

export type ApiKeyLimits = z.infer<typeof apiKeyLimitsSchema>;
export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/** Who is calling: the key's name, the limits that apply to it and its own budgets. */
export interface Principal {
  name: string;
  limits: ApiKeyLimits;
  budgets?: Budgets | undefined;
}

const KEY_PREFIX = 'tf_';

/**
 * SHA-256 of the key. Keys are 256 random bits, not passwords, so a slow salted
 * hash would add latency to every request without adding safety.
 */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** A new random key (shown once) and the entry that stores only its hash. */
export function newApiKey(name: string) {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, entry: apiKeyEntrySchema.parse({ name, hash: hashApiKey(key) }) };
}

const entryList = z.array(apiKeyEntrySchema).max(10_000);

/**
 * TOKENFLOW_API_KEYS is either a JSON array of entries or a comma-separated
 * list of `name:sha256:<hex>`; TOKENFLOW_API_KEYS_FILE is a JSON file holding
 * an array or `{ "keys": [...] }`. Returns the entries or the problems found.
 */
export function parseApiKeys(inline: string | undefined, file: string | undefined) {
  const problems: string[] = [];
  const entries: ApiKeyEntry[] = [];
  const take = (source: string, raw: unknown) => {
    const parsed = entryList.safeParse(raw);
    if (parsed.success) entries.push(...parsed.data);
    else {
      for (const issue of parsed.error.issues) {
        problems.push(`  ${source}[${issue.path.join('.')}]: ${issue.message}`);
      }
    }
  };
  if (inline !== undefined) {
    const text = inline.trim();
    if (text.startsWith('[')) {
      try {
        take('TOKENFLOW_API_KEYS', JSON.parse(text));
      } catch {
        problems.push('  TOKENFLOW_API_KEYS: starts with "[" but is not valid JSON');
      }
    } else {
      take(
        'TOKENFLOW_API_KEYS',
        text
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
          .map((item) => {
            const at = item.indexOf(':');
            return at < 0 ? { name: item, hash: '' } : { name: item.slice(0, at), hash: item.slice(at + 1) };
          }),
      );
    }
  }
  if (file !== undefined) {
    if (!existsSync(file)) problems.push(`  TOKENFLOW_API_KEYS_FILE: ${file} does not exist`);
    else {
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
        take('TOKENFLOW_API_KEYS_FILE', Array.isArray(raw) ? raw : (raw as { keys?: unknown })?.keys);
      } catch {
        problems.push(`  TOKENFLOW_API_KEYS_FILE: ${file} is not valid JSON`);
      }
    }
  }
  const names = entries.map((e) => e.name);
  for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
    problems.push(`  API key name "${name}" is used twice; names must be unique`);
  }
  return { entries, problems };
}

/** Checks presented keys against the stored hashes. */
export class KeyRing {
  private readonly hashes: Array<{ digest: Buffer; principal: Principal }>;

  constructor(entries: ApiKeyEntry[], defaults: ApiKeyLimits) {
    this.hashes = entries.map((entry) => ({
      digest: Buffer.from(entry.hash.slice('sha256:'.length), 'hex'),
      principal: { name: entry.name, limits: { ...defaults, ...entry.limits }, budgets: entry.budgets },
    }));
  }

  get enabled() {
    return this.hashes.length > 0;
  }

  /**
   * The key's principal, or null. Every stored hash is compared, in constant
   * time, whatever matches: the time taken says nothing about which key is close.
   */
  verify(presented: string): Principal | null {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: Principal | null = null;
    for (const stored of this.hashes) {
      if (timingSafeEqual(stored.digest, digest) && found === null) found = stored.principal;
    }
    return found;
  }
}
