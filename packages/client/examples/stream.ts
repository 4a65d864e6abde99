// Streams one generation through a running gateway and prints it as it comes:
//   pnpm --filter @tokenflow/client example -- "Tell me a joke" groq/llama-3.1-8b-instant
import WebSocket from 'ws';
import { createTokenFlowClient, streamGenerate } from '../src/index.ts';
import { runExample } from './run-example.ts';

const [prompt = 'Who are you?', model = 'groq/llama-3.1-8b-instant'] = process.argv.slice(2).filter((a) => a !== '--');
const client = createTokenFlowClient({
  url: process.env.TOKENFLOW_URL ?? 'http://127.0.0.1:8000',
  apiKey: process.env.TOKENFLOW_API_KEY,
  WebSocket,
});

await runExample(client, async () => {
  for await (const event of streamGenerate(client, { prompt, model })) {
    if (event.type === 'metadata') console.error(`[${event.provider} ${event.model} request ${event.requestId}]`);
    if (event.type === 'reasoning') process.stderr.write(`\x1b[2m${event.text}\x1b[0m`);
    if (event.type === 'text') process.stdout.write(event.text);
    if (event.type === 'end') console.error(`\n[finish: ${event.finishReason}, usage: ${JSON.stringify(event.usage)}]`);
  }
});
