import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixturePath, hasRecording } from './recordings.ts';

/** How the next requests are answered. Faults stand in for what real providers do. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; message?: string }
  /** An error event after `afterEvents` events of an HTTP 200 stream, in OpenRouter's or Groq's form. */
  | { kind: 'midstream-error'; style: 'openrouter' | 'groq'; afterEvents: number; code?: number }
  /** The TCP connection is destroyed after `afterEvents` events. */
  | { kind: 'reset'; afterEvents: number }
  /** No more bytes after `afterEvents` events (0: not even the headers), and the socket stays open. */
  | { kind: 'stall'; afterEvents: number }
  /** The response ends cleanly after `afterEvents` events, without finish_reason or [DONE]. */
  | { kind: 'truncate'; afterEvents: number };

export interface Scenario {
  /** A recording's name (see recordings.ts); defaults to the requested model id. */
  fixture?: string;
  /** A literal SSE body to serve instead of a recording, for shapes no recording has. */
  body?: string;
  /** Pause between SSE events, to make streams take time. */
  eventDelayMs?: number;
  fault?: Fault;
}

export interface ReceivedRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

export interface ReplayUpstream {
  /** OpenAI-style base URL, e.g. http://127.0.0.1:1234/v1 */
  baseURL: string;
  requests: ReceivedRequest[];
  /** How many streams were cut by the client (socket closed before the response ended). */
  readonly abortedStreams: number;
  /** One scenario for every request, or one chosen per request (e.g. by model). */
  use(scenario: Scenario | ((request: ReceivedRequest) => Scenario)): void;
  /** Resolves when the next client-side abort is observed. */
  nextAbort(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Answers an agent's turns the way OpenAI answered the recorded run
 * (openai-tools-agent-*), chosen by how many tool results the request carries:
 * none -> two parallel calls, two -> get_weather, three -> final_result, then
 * a plain text answer. `REPLAY_FIXTURE=agent npm run replay-upstream` serves it.
 */
export function agentTurns(request: ReceivedRequest): Scenario {
  const messages = Array.isArray(request.body.messages) ? (request.body.messages as Array<{ role?: unknown }>) : [];
  const results = messages.filter((m) => m.role === 'tool').length;
  const turns: Record<number, string> = {
    0: 'openai-tools-agent-0',
    2: 'openai-tools-agent-1',
    3: 'openai-tools-agent-2',
  };
  return { fixture: turns[results] ?? 'groq-thinking-part-iter-0' };
}

/** Splits an SSE body into its events, each with its trailing blank line, byte for byte. */
export function splitEvents(body: string): string[] {
  return body.split(/(?<=\n\n)/).filter((event) => event.length > 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function errorEvent(fault: Extract<Fault, { kind: 'midstream-error' }>) {
  const error = { message: 'Upstream overloaded, try again', code: fault.code ?? 502 };
  return fault.style === 'groq'
    ? `event: error\ndata: ${JSON.stringify({ error: { ...error, type: 'internal_server_error' } })}\n\n`
    : `data: ${JSON.stringify({ error })}\n\n`;
}

/**
 * A local OpenAI-compatible `/v1/chat/completions` that replays recorded
 * provider streams byte for byte and injects failures on demand.
 */
export async function startReplayUpstream(initial: Scenario = {}, port = 0): Promise<ReplayUpstream> {
  let choose: (request: ReceivedRequest) => Scenario = () => initial;
  let abortedStreams = 0;
  let abortWaiters: Array<() => void> = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();

  async function respond(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const received = { path: req.url ?? '', authorization: req.headers.authorization, body };
    requests.push(received);
    const scenario = choose(received);

    res.on('close', () => {
      if (res.writableEnded) return;
      abortedStreams += 1;
      for (const wake of abortWaiters.splice(0)) wake();
    });

    const { fault, eventDelayMs = 0 } = scenario;
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers);
      res.end(
        JSON.stringify({ error: { message: fault.message ?? `injected HTTP ${fault.status}`, type: 'injected' } }),
      );
      return;
    }
    if (fault?.kind === 'stall' && fault.afterEvents === 0) return; // say nothing, keep the socket

    const name = scenario.fixture ?? String(body.model);
    if (scenario.body === undefined && !hasRecording(name)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `The model ${name} does not exist`, code: 'model_not_found' } }));
      return;
    }
    const events = splitEvents(scenario.body ?? readFileSync(fixturePath(name, 'sse'), 'utf8'));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const [index, event] of events.entries()) {
      if (fault && 'afterEvents' in fault && index === fault.afterEvents) {
        if (fault.kind === 'midstream-error') res.end(errorEvent(fault));
        else if (fault.kind === 'reset') {
          // Let the bytes so far reach the client first, as they would on a real network.
          await new Promise((resolve) => res.write('', resolve));
          await sleep(20);
          req.socket.destroy();
        } else if (fault.kind === 'truncate') res.end();
        return; // a stall simply stops writing
      }
      if (res.destroyed) return;
      if (!res.write(event)) await once(res, 'drain');
      if (eventDelayMs > 0) await sleep(eventDelayMs);
    }
    res.end();
  }

  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
      respond(req, res).catch(() => req.socket.destroy());
      return;
    }
    res.writeHead(404).end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A deep accept queue, so a burst of connections (the benchmarks open 1,000 at once) is not reset.
  server.listen({ port, host: '127.0.0.1', backlog: 4096 });
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;

  return {
    baseURL: `http://127.0.0.1:${bound}/v1`,
    requests,
    get abortedStreams() {
      return abortedStreams;
    },
    use(next) {
      choose = typeof next === 'function' ? next : () => next;
    },
    nextAbort: () => new Promise((resolve) => abortWaiters.push(resolve)),
    async close() {
      abortWaiters = [];
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A loopback port with nothing listening, for "connection refused". */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
