// A replay upstream you can point a running gateway at, to try streaming with
// no provider account: `pnpm --filter @tokenflow/server replay-upstream [port]`.
import { agentTurns, startReplayUpstream } from './replay-upstream.ts';

const port = Number(process.argv[2] ?? process.env.REPLAY_PORT ?? 9100);
// REPLAY_FIXTURE answers every model with one recording, e.g. to stand in for Groq with the built-in catalog;
// REPLAY_FIXTURE=agent answers an agent's turns as OpenAI did in a recorded run (see agentTurns).
const fixture = process.env.REPLAY_FIXTURE;
const eventDelayMs = Number(process.env.REPLAY_DELAY_MS ?? 5);
const upstream = await startReplayUpstream({ eventDelayMs, fixture }, port);
if (fixture === 'agent') upstream.use((request) => ({ ...agentTurns(request), eventDelayMs }));
const serving =
  fixture === 'agent'
    ? 'every model answers like OpenAI in a recorded agent run'
    : fixture
      ? `every model answers with ${fixture}`
      : 'models: the recording names in fixtures/upstream-streams';
console.log(`replay upstream at ${upstream.baseURL} (${serving})`);
process.on('SIGINT', () => void upstream.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
