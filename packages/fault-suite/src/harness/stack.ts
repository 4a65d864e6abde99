import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenFlowClient, isTokenFlowError, type TokenFlowClient } from '@tokenflow/client';
import {
  closedPort,
  type FaultProxy,
  type ReplayUpstream,
  type RunningGateway,
  startFaultProxy,
  startGateway,
  startReplayUpstream,
} from '@tokenflow/server/test-utils';
import WebSocket from 'ws';

// Models are named after recordings, so the replay upstream answers each with its stream.
export const GROQ_MODEL = { provider: 'groq', model: 'groq-thinking-part-iter-0' } as const;
export const OPENROUTER_MODEL = { provider: 'openrouter', model: 'openrouter-stream-with-native-options' } as const;

// One model serves every category, so selectModel always routes to a recording.
const CATALOG = {
  defaultCategory: 'general',
  models: [
    {
      ...OPENROUTER_MODEL,
      categories: { general: 1, code: 1, reasoning: 1, creative: 1, 'text-to-text': 1, 'function-calling': 1 },
      contextWindow: 131_072,
      price: { inputPerMTok: 0.1, outputPerMTok: 0.2 },
    },
  ],
};

export interface FaultStack {
  upstream: ReplayUpstream;
  /** The gateway's ML_SERVICE_URL: a fault proxy in front of `mlUrl` (a closed port when none is given). */
  proxy: FaultProxy;
  gateway: RunningGateway;
  /** A typed client on its own WebSocket, closed with the stack. */
  newClient(): TokenFlowClient;
  /** The gateway still answers /healthz, on a fresh connection, within 2 s. */
  alive(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The gateway in this process, between a replay upstream and a fault proxy for
 * the ML service. Retries and circuit breakers are set out of the way, so each
 * case sees one fault's own effect.
 */
export async function startFaultStack(
  options: {
    /** Where the fault proxy forwards to. */
    mlUrl?: string;
    /** Point the gateway straight at this ML service, without the proxy. */
    mlDirect?: string;
    env?: Record<string, string>;
    /** The key every client of the stack sends, for a gateway with TOKENFLOW_API_KEYS. */
    apiKey?: string;
  } = {},
): Promise<FaultStack> {
  const upstream = await startReplayUpstream();
  const proxy = await startFaultProxy(options.mlUrl ?? `http://127.0.0.1:${await closedPort()}`);
  const dir = mkdtempSync(join(tmpdir(), 'fault-suite-'));
  writeFileSync(join(dir, 'catalog.json'), JSON.stringify(CATALOG));
  const gateway = await startGateway({
    GROQ_API_KEY: 'gsk_fault_suite_groq_key_0123',
    GROQ_API_BASE_URL: upstream.baseURL,
    OPENROUTER_API_KEY: 'sk-or-fault-suite-key-0123456',
    OPENROUTER_API_BASE_URL: upstream.baseURL,
    ML_SERVICE_URL: options.mlDirect ?? proxy.url,
    LOCAL_PROVIDER: 'off',
    TOKENFLOW_CATALOG: join(dir, 'catalog.json'),
    GENERATE_FIRST_TOKEN_TIMEOUT_MS: '1000',
    GENERATE_IDLE_TIMEOUT_MS: '800',
    ML_TIMEOUT_MS: '1000',
    // Read by the retry and circuit-breaker work in progress; ignored by older configs.
    BREAKER_FAILURE_THRESHOLD: '1000',
    UPSTREAM_RETRY_ATTEMPTS: '0',
    ...options.env,
  });
  const clients = new Set<TokenFlowClient>();
  const stack: FaultStack = {
    upstream,
    proxy,
    gateway,
    newClient() {
      const client = createTokenFlowClient({
        url: gateway.url,
        WebSocket,
        idleCloseMs: 60_000,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      });
      clients.add(client);
      const close = client.close;
      return new Proxy(client, {
        get: (target, property, receiver) =>
          property === 'close'
            ? () => {
                clients.delete(client);
                return close();
              }
            : Reflect.get(target, property, receiver),
      });
    },
    alive: async () =>
      (await rawRequest(gateway.url, { path: '/healthz', timeoutMs: 2000 }).catch(() => null))?.status === 200,
    async close() {
      await Promise.all([...clients].map((c) => c.close()));
      await gateway.close();
      await proxy.close();
      await upstream.close();
    },
  };
  await warmUp(stack);
  return stack;
}

/**
 * Lets every server and pool be created before the first "before" snapshot, so
 * that one-off setup (the first WebSocket, the first upstream socket) is not
 * counted as a case's leak.
 */
async function warmUp(stack: FaultStack) {
  await rawRequest(stack.gateway.url, { path: '/healthz' });
  await rawRequest(stack.upstream.baseURL.replace(/\/v1$/, ''), { path: '/' });
  await rawRequest(stack.proxy.url, { path: '/healthz' }).catch(() => null);
  stack.proxy.requests.length = 0;
  const client = stack.newClient();
  await client.trpc.modelRankings.query();
  const { code, message, events } = await runStream(client.trpc.generate, { prompt: 'warm up', ...GROQ_MODEL });
  if (code !== null)
    throw new Error(
      `the stack did not warm up: generate failed with ${code} ${message} ${events.length + JSON.stringify(events.slice(-3))}`,
    );
  await client.close();
  stack.upstream.requests.length = 0;
}

export interface RawResponse {
  status: number;
  text: string;
  /** The JSON body, or undefined when it is not JSON. */
  json: unknown;
}

/** One HTTP request on a connection of its own (no keep-alive pool), body sent byte for byte. */
export function rawRequest(
  base: string,
  options: {
    method?: string;
    path: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<RawResponse> {
  const url = new URL(options.path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: {
          connection: 'close',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface StreamOutcome<E> {
  events: E[];
  /** The tRPC error code the stream ended with, or null when it ended with its `end` event. */
  code: string | null;
  message: string;
}

type Subscribable<I, E> = {
  subscribe(
    input: I,
    handlers: { onData(value: { data: E }): void; onError(error: unknown): void; onComplete(): void },
  ): { unsubscribe(): void };
};

/** Runs a subscription to its end (an `end` event or an error) and says how it ended. */
export function runStream<I, E>(procedure: Subscribable<I, E>, input: I): Promise<StreamOutcome<E>> {
  return new Promise((resolve) => {
    const events: E[] = [];
    const subscription = procedure.subscribe(input, {
      onData(value) {
        const event = value.data;
        events.push(event);
        if ((event as { type?: string }).type === 'end') {
          resolve({ events, code: null, message: '' });
          subscription.unsubscribe();
        }
      },
      onError(error) {
        resolve({ events, code: codeOf(error), message: error instanceof Error ? error.message : String(error) });
      },
      onComplete() {
        resolve({ events, code: 'STREAM_CUT', message: 'completed before its end event' });
      },
    });
  });
}

/** The tRPC code of whatever a call threw. */
export function codeOf(error: unknown): string {
  if (isTokenFlowError(error)) return error.data?.code ?? `TRPCClientError: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** An async call's error code, or null when it succeeded. */
export async function errorCode(call: Promise<unknown>): Promise<string | null> {
  return call.then(
    () => null,
    (error: unknown) => codeOf(error),
  );
}
