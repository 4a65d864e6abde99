// A tour of every procedure against a running gateway (npm start), as a new user would try it:
//   npm run tour
// With no provider key it runs entirely on the local models in the ML service.
import WebSocket from 'ws';
import { createTokenFlowClient, streamGenerate, streamSelectModel } from '../src/index.ts';
import { runExample } from './run-example.ts';

const client = createTokenFlowClient({
  url: process.env.TOKENFLOW_URL ?? 'http://127.0.0.1:8000',
  apiKey: process.env.TOKENFLOW_API_KEY,
  WebSocket,
});
const section = (title: string) => console.log(`\n\x1b[1m${title}\x1b[0m`);

await runExample(client, async () => {
  section('classify');
  const classified = await client.trpc.classify.mutate({ prompt: 'Write a Python function that reverses a string.' });
  console.log(`${classified.topCategory} (${(classified.confidence * 100).toFixed(0)}%, ${classified.backend})`);

  section('compress');
  const notes = 'The team met on Monday to review the 2026 budget of 48,500 dollars and the launch plan. ';
  const compressed = await client.trpc.compress.mutate({ text: notes.repeat(8), ratio: 0.5, forceReserveDigit: true });
  console.log(
    `${compressed.originTokens} -> ${compressed.compressedTokens} tokens (${compressed.method}): ${compressed.compressedText.slice(0, 160)}...`,
  );

  section('generate (local/smollm2-135m-instruct)');
  for await (const event of streamGenerate(client, {
    prompt: 'What is the capital of France?',
    model: 'local/smollm2-135m-instruct',
    temperature: 0,
    maxTokens: 40,
  })) {
    if (event.type === 'text') process.stdout.write(event.text);
    if (event.type === 'end') console.log(`\n[${event.finishReason}, ${JSON.stringify(event.usage)}]`);
  }

  section('selectModel');
  for await (const event of streamSelectModel(client, { prompt: 'Write a haiku about autumn rain.', maxTokens: 60 })) {
    if (event.type === 'metadata') console.log(`[${event.category} -> ${event.provider}/${event.model}]`);
    if (event.type === 'fallback') console.log(`[fallback ${event.from.model} -> ${event.to.model}: ${event.reason}]`);
    if (event.type === 'text') process.stdout.write(event.text);
    if (event.type === 'end') console.log(`\n[${event.finishReason}, ${JSON.stringify(event.usage)}]`);
  }
});
