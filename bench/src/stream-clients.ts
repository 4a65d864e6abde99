// How the benchmarks read a stream: straight from the upstream or through the gateway
// (WebSocket, SSE, /v1), timing the first token and the whole stream.
import { type createTokenFlowClient, streamGenerate } from '@tokenflow/client';
import type OpenAI from 'openai';

export type Timing = { ttft: number; total: number; tokens: number; failed?: string };

/** A stream that fails is counted, not allowed to stop the whole benchmark. */
export const safely = (attempt: () => Promise<Timing>) => (): Promise<Timing> =>
  attempt().catch((error: unknown) => ({
    ttft: Number.NaN,
    total: Number.NaN,
    tokens: 0,
    failed: error instanceof Error ? error.message : String(error),
  }));

const messages = [{ role: 'user' as const, content: 'benchmark' }];

/**
 * The synthetic upstream's tokens are " t0", " t1", …: they are counted in the
 * text, so an event that carries several (the gateway joins text deltas that
 * arrive together while its client is behind) counts for each of them.
 */
const tokensIn = (text: string) => text.split(' t').length - 1;

/** The openai client: straight to the upstream (model `bench`) or through the gateway's /v1 (`bench/bench`). */
export async function direct(openai: OpenAI, model: string): Promise<Timing> {
  const started = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  const stream = await openai.chat.completions.create({ model, messages, stream: true });
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta.content;
    if (content) {
      if (tokens === 0) ttft = performance.now() - started;
      tokens += tokensIn(content);
    }
  }
  return { ttft, total: performance.now() - started, tokens };
}

export type Client = ReturnType<typeof createTokenFlowClient>;

export async function viaWebSocket(client: Client): Promise<Timing> {
  const started = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  for await (const event of streamGenerate(client, { messages, model: 'bench/bench' })) {
    if (event.type !== 'text') continue;
    if (tokens === 0) ttft = performance.now() - started;
    tokens += tokensIn(event.text);
  }
  return { ttft, total: performance.now() - started, tokens };
}

export async function viaSse(gatewayUrl: string): Promise<Timing> {
  const started = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  const response = await fetch(`${gatewayUrl}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages, model: 'bench/bench' }),
  });
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      if (buffer.startsWith('event: text_chunk')) {
        if (tokens === 0) ttft = performance.now() - started;
        tokens += tokensIn(buffer.slice(buffer.indexOf('\ndata: '), boundary));
      } else if (buffer.startsWith('event: error')) {
        throw new Error(buffer.slice(0, boundary).split('\ndata: ')[1]);
      }
      buffer = buffer.slice(boundary + 2);
      boundary = buffer.indexOf('\n\n');
    }
  }
  return { ttft, total: performance.now() - started, tokens };
}

/** Failed streams by reason, most frequent first. */
export function reasons(failed: Timing[]) {
  const counts = new Map<string, number>();
  for (const t of failed) {
    const reason = (t.failed ?? '').slice(0, 200);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([reason, streams]) => ({ reason, streams }));
}
