// An OpenAI-compatible upstream that streams TOKENS content chunks INTERVAL_MS apart,
// run in its own process so it never competes with the gateway or the bench client.
import { startReplayUpstream } from '@tokenflow/server/test-utils';

const tokens = Number(process.env.TOKENS ?? 50);
const interval = Number(process.env.INTERVAL_MS ?? 10);
const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
  `data: ${JSON.stringify({ id: 'bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
const body = [
  chunk({ role: 'assistant', content: '' }),
  ...Array.from({ length: tokens }, (_, i) => chunk({ content: ` t${i}` })),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({ id: 'bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [], usage: { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens } })}\n\n`,
  'data: [DONE]\n\n',
].join('');

const upstream = await startReplayUpstream({ body, eventDelayMs: interval });
console.log(JSON.stringify({ ready: { baseURL: upstream.baseURL } }));
