// A replay upstream you can point a running gateway at, to try streaming with
// no provider account: `pnpm --filter @tokenflow/server replay-upstream [port]`.
import { startReplayUpstream } from './replay-upstream.ts';

const port = Number(process.argv[2] ?? process.env.REPLAY_PORT ?? 9100);
// REPLAY_FIXTURE answers every model with one recording, e.g. to stand in for Groq with the built-in catalog.
const fixture = process.env.REPLAY_FIXTURE;
const upstream = await startReplayUpstream({ eventDelayMs: Number(process.env.REPLAY_DELAY_MS ?? 5), fixture }, port);
console.log(
  `replay upstream at ${upstream.baseURL} (${fixture ? `every model answers with ${fixture}` : 'models: the recording names in fixtures/upstream-streams'})`,
);
process.on('SIGINT', () => void upstream.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
