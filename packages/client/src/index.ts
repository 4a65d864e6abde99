import type { AppRouter, GenerateEvent, SelectModelEvent } from '@tokenflow/server';
import { transformer } from '@tokenflow/server/transformer';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { RefusalWatch, refusalLink } from './refusal-link.ts';

export type {
  AppRouter,
  AssembledToolCall,
  EndUsage,
  GenerateEvent,
  GenerateInput,
  ModelRef,
  ModelUsage,
  Savings,
  SelectModelEvent,
  SelectModelInput,
  UpstreamDetails,
  Usage,
  UsageTotals,
} from '@tokenflow/server';
export {
  type AnswerState,
  answeringModel,
  assembleToolCalls,
  type EndEvent,
  emptyAnswer,
  type FallbackEvent,
  type GenerateMetadata,
  isSelectMetadata,
  reduceAnswer,
  type SelectMetadata,
  type StreamEvent,
  type ToolCallEvent,
} from './answer.ts';
export { TRPCClientError };
export type RouterInputs = inferRouterInputs<AppRouter>;
/** What every failed call throws: `data.code` is the tRPC code, `data.upstream` the provider's side. */
export type TokenFlowError = TRPCClientError<AppRouter>;
export const isTokenFlowError = (error: unknown): error is TokenFlowError => error instanceof TRPCClientError;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** The WebSocket constructor to use: the browser's, or `ws`'s in Node 20 (which has none). */
type WebSocketConstructor = typeof globalThis.WebSocket;

export interface TokenFlowClientOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8000 (http/https; the WebSocket URL is derived). */
  url: string;
  /** Sent as `Authorization: Bearer` over HTTP and in the WebSocket connection params. */
  apiKey?: string;
  /** Pass `WebSocket` from the `ws` package in Node 20. Browsers and Node 22+ have one built in. */
  WebSocket?: unknown;
  /** Close the WebSocket after this long without subscriptions (default 10 s). */
  idleCloseMs?: number;
}

/** One connection to a gateway: its procedures, its WebSocket's state, and a way to close it. */
export interface TokenFlowClient {
  /** Every procedure, typed: `trpc.modelRankings.query()`, `trpc.classify.mutate(…)`, `trpc.generate.subscribe(…)`. */
  trpc: TRPCClient<AppRouter>;
  /** The WebSocket's state, for a UI: `subscribe({ next: ({ state }) => … })` (idle, connecting, pending). */
  connectionState: TokenFlowLinks['connectionState'];
  /** Closes the WebSocket; call it when your Node process is done with the client. */
  close(): Promise<void>;
}

function trpcUrls(base: string) {
  const url = new URL(base);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`TokenFlow client url must be http(s)://, got ${url.protocol}`);
  }
  const path = `${url.pathname.replace(/\/+$/, '')}/trpc`;
  const ws = new URL(url);
  ws.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.pathname = path;
  url.pathname = path;
  return { http: url.toString(), ws: ws.toString() };
}

/** The links behind every TokenFlow client, for apps that build their own (React hooks). */
export interface TokenFlowLinks {
  links: TRPCLink<AppRouter>[];
  /** The WebSocket's state for a UI: `connectionState.subscribe({ next })` gives idle, connecting or pending. */
  connectionState: TRPCWebSocketClient['connectionState'];
  /** Closes the WebSocket. */
  close(): Promise<void>;
}

/** One value of `connectionState`: idle, connecting (with `error` when a retry follows a failure) or pending (open). */
export type ConnectionState = ReturnType<TokenFlowLinks['connectionState']['get']>;

/**
 * The links of a TokenFlow client: queries and mutations over HTTP (batched),
 * subscriptions over one lazily opened WebSocket that pings and reconnects with
 * backoff, the API key on both, and refusals (wrong key, too many connections)
 * turned into errors instead of endless reconnects. `createTRPCClient` or
 * `createTRPCContext` (React) takes them as they are.
 */
export function createTokenFlowLinks(options: TokenFlowClientOptions): TokenFlowLinks {
  const urls = trpcUrls(options.url);
  const WebSocketImpl = (options.WebSocket ?? globalThis.WebSocket) as WebSocketConstructor | undefined;
  if (!WebSocketImpl) {
    throw new TypeError("No WebSocket implementation: in Node 20 pass `WebSocket` from the 'ws' package.");
  }
  const headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : undefined;

  const refusals = new RefusalWatch();
  const wsClient = createWSClient({
    url: urls.ws,
    WebSocket: WebSocketImpl,
    lazy: { enabled: true, closeMs: options.idleCloseMs ?? 10_000 },
    keepAlive: { enabled: true, intervalMs: 15_000, pongTimeoutMs: 5_000 },
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 10_000),
    connectionParams: options.apiKey ? { apiKey: options.apiKey } : null,
    onOpen: refusals.opened,
    onClose: refusals.closed,
  });
  return {
    links: [
      refusalLink(refusals),
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient, transformer }),
        false: httpBatchLink({ url: urls.http, transformer, headers }),
      }),
    ],
    connectionState: wsClient.connectionState,
    close: () => wsClient.close(),
  };
}

/**
 * A typed client for every TokenFlow procedure (see createTokenFlowLinks for
 * how it talks to the gateway).
 */
export function createTokenFlowClient(options: TokenFlowClientOptions): TokenFlowClient {
  const { links, close, connectionState } = createTokenFlowLinks(options);
  return { trpc: createTRPCClient<AppRouter>({ links }), connectionState, close };
}

/**
 * Runs `generate` as an async iterable of events that ends after the `end`
 * event. Breaking out of the loop unsubscribes, and aborting `signal` does too
 * and throws its reason; either aborts the upstream request at once. Failures
 * are thrown as TRPCClientError with `data.code` (and `data.upstream`).
 */
export function streamGenerate(
  client: TokenFlowClient,
  input: RouterInputs['generate'],
  options: { signal?: AbortSignal } = {},
): AsyncIterable<GenerateEvent> {
  return subscriptionToIterable(
    (handlers) => client.trpc.generate.subscribe(input, handlers),
    (event) => event.type === 'end',
    options.signal,
  );
}

/**
 * Runs `selectModel` the same way: metadata (the category, the chosen model and
 * the candidates), then any `fallback` events, then the answer and `end`.
 */
export function streamSelectModel(
  client: TokenFlowClient,
  input: RouterInputs['selectModel'],
  options: { signal?: AbortSignal } = {},
): AsyncIterable<SelectModelEvent> {
  return subscriptionToIterable(
    (handlers) => client.trpc.selectModel.subscribe(input, handlers),
    (event) => event.type === 'end',
    options.signal,
  );
}

type Handlers<T> = {
  onData(value: { data: T }): void;
  onError(error: unknown): void;
  onComplete(): void;
  onStopped(): void;
  onConnectionStateChange(state: { state: string; error: unknown }): void;
};

const STREAM_CUT = 'The stream closed before its end event (the client or its connection was closed).';
const CONNECTION_LOST =
  'The connection to the gateway was lost mid-stream, and a generation cannot be resumed: send the request again.';

function subscriptionToIterable<T>(
  subscribe: (handlers: Handlers<T>) => { unsubscribe(): void },
  isLast: (value: T) => boolean,
  signal?: AbortSignal,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const queue: T[] = [];
      let failure: { error: unknown } | null = null;
      let started = false;
      let finished = false; // the last event arrived
      let done = false; // nothing more will be queued
      let wake: (() => void) | null = null;
      const notify = () => {
        wake?.();
        wake = null;
      };
      const fail = (error: unknown) => {
        if (done) return;
        failure ??= { error };
        done = true;
        notify();
      };

      const subscription = subscribe({
        onData: (value) => {
          started = true;
          queue.push(value.data);
          // The last event ends the stream here, without waiting for the server's
          // `stopped`, which a socket closing for shutdown may never deliver.
          if (isLast(value.data)) {
            finished = true;
            stop();
          }
          notify();
        },
        onConnectionStateChange: (state) => {
          // tRPC would resubscribe on a new socket and the generation would start
          // over; fail instead, so the caller never sees text twice.
          if (started && state.state === 'connecting' && state.error) {
            fail(new TRPCClientError(CONNECTION_LOST, { cause: state.error as Error }));
            subscription.unsubscribe();
          }
        },
        onError: fail,
        // A completion before the last event means the stream was cut (e.g. the
        // client was closed): say so rather than end the loop as if all was said.
        onComplete: () => fail(new TRPCClientError(STREAM_CUT)),
        onStopped: () => fail(new TRPCClientError(STREAM_CUT)),
      });
      function stop() {
        done = true;
        subscription.unsubscribe();
        notify();
      }
      const onAbort = () => {
        if (finished) return;
        fail(signal?.reason);
        subscription.unsubscribe();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      const cleanup = () => signal?.removeEventListener('abort', onAbort);

      return {
        async next(): Promise<IteratorResult<T>> {
          while (true) {
            const value = queue.shift();
            if (value !== undefined) return { value, done: false };
            if (failure) {
              cleanup();
              throw failure.error;
            }
            if (done) {
              cleanup();
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        },
        async return(): Promise<IteratorResult<T>> {
          stop();
          cleanup();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
