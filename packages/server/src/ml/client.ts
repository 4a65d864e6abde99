import { Agent } from 'node:http';
import { TRPCError } from '@trpc/server';
import got, { type Got } from 'got';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import { Breaker, type BreakerOptions, type BreakerSnapshot, breakerOptions } from '../providers/breaker.ts';
import { endSpan, SpanKind, startSpan, traceHeaders } from '../telemetry/tracing.ts';
import { toSnakeKeys } from '../wire/case.ts';
import { callerGaveUp, ML_SERVICE, mlError, whatTheBreakerHears } from './errors.ts';
import {
  type ClassifyInput,
  type ClassifyRequest,
  type ClassifyResult,
  type CompressInput,
  type CompressRequest,
  type CompressResult,
  classifyResultSchema,
  compressResultSchema,
  type MlReadiness,
  mlReadinessSchema,
} from './schemas.ts';

export interface MlCallOptions {
  requestId: string;
  signal?: AbortSignal | undefined;
}

export interface MlClassifyOptions extends MlCallOptions {
  /** Also return the prompt's sentence embedding (null from the NLI backend); not public input. */
  returnEmbedding?: boolean | undefined;
}

export interface MlClient {
  classify(input: ClassifyInput, options: MlClassifyOptions): Promise<ClassifyResult>;
  compress(input: CompressInput, options: MlCallOptions): Promise<CompressResult>;
  /** The service's own readiness, or why it could not be asked. */
  readiness(): Promise<MlReadiness | { ready: false; error: string }>;
  /** The circuit breaker in front of classify and compress. */
  breaker(): BreakerSnapshot;
}

export interface MlClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Sent as `Authorization: Bearer` on every call (ML_SERVICE_TOKEN). */
  token?: string | undefined;
  breaker?: BreakerOptions | undefined;
  /** Records each call's latency (tokenflow_ml_request_duration_seconds); GatewayMetrics fits. */
  metrics?: { mlRequest(endpoint: string, outcome: string, seconds: number): void } | undefined;
}

/** The client's options from the configuration. */
export function mlClientOptions(config: Config): MlClientOptions {
  return {
    baseUrl: config.ML_SERVICE_URL,
    timeoutMs: config.ML_TIMEOUT_MS,
    token: config.ML_SERVICE_TOKEN,
    breaker: breakerOptions(config),
  };
}

const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

// Only connection failures are retried, and quickly: a caller must hear
// "service unavailable" within about a second. A 503 is answered at once with
// the service's Retry-After: retrying a busy service only adds to its load.
const RETRY = {
  limit: 2,
  methods: ['POST' as const],
  statusCodes: [],
  errorCodes: ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'],
  backoffLimit: 200,
  noise: 50,
};

export function createMlClient({ baseUrl, timeoutMs, token, breaker: options, metrics }: MlClientOptions): MlClient {
  const secrets = token ? [token] : [];
  // Counts whole calls (after got's quick connection retries), not single attempts.
  // Its 503s with Retry-After mean "busy" or "loading": load shedding, not failure.
  const breaker = new Breaker(ML_SERVICE, 'The ML service', {
    ...(options ?? DEFAULT_BREAKER),
    sheddingIsNeutral: true,
  });
  const http: Got = got.extend({
    prefixUrl: baseUrl,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    agent: { http: new Agent({ keepAlive: true, maxSockets: 64 }) },
    timeout: { connect: 500, request: timeoutMs },
    responseType: 'json',
    retry: RETRY,
  });

  async function post<S extends z.ZodType>(path: string, body: unknown, schema: S, options: MlCallOptions) {
    if (options.signal?.aborted) throw callerGaveUp(options.signal);
    const lease = breaker.admit();
    const started = performance.now();
    const observe = (outcome: string) => metrics?.mlRequest(path, outcome, (performance.now() - started) / 1000);
    const span = startSpan(`ml ${path}`, SpanKind.CLIENT, { 'tokenflow.request_id': options.requestId });
    let payload: unknown;
    // got's quick retries hide the attempts before the last: the latest is kept, for the breaker.
    let failedAttempt: unknown = null;
    try {
      payload = await http
        .post(path, {
          json: body,
          // The request id ties both services' logs together; traceparent, their spans.
          headers: { 'x-request-id': options.requestId, ...traceHeaders(span) },
          signal: options.signal,
          retry: {
            ...RETRY,
            // Called as soon as an attempt fails (beforeRetry only after the back-off,
            // by when a short-deadline caller may have gone).
            calculateDelay: ({ error, computedValue }) => {
              failedAttempt = error;
              return computedValue;
            },
          },
        })
        .json();
      lease.succeed();
      endSpan(span);
    } catch (error) {
      // The caller's own signal first: got reports a signal's timeout as its own
      // TimeoutError, which would read as a slow service and count against the breaker.
      const gaveUp = options.signal?.aborted ? options.signal : null;
      const failure = gaveUp ? callerGaveUp(gaveUp) : mlError(error, baseUrl, timeoutMs, secrets);
      lease.fail(gaveUp ? whatTheBreakerHears(failedAttempt, lease.trial, baseUrl, timeoutMs) : failure);
      observe(failure.code);
      endSpan(span, failure);
      throw failure;
    }
    const parsed = schema.safeParse(payload);
    observe(parsed.success ? 'ok' : 'BAD_GATEWAY');
    if (!parsed.success) {
      throw new TRPCError({ code: 'BAD_GATEWAY', message: `The ML service sent an unexpected ${path} response.` });
    }
    return parsed.data as z.output<S>;
  }

  return {
    classify: (input, options) =>
      // null, not absent: the service's default categories, said explicitly. An unset
      // returnEmbedding is left out (the service's default: no embedding).
      post(
        'classify',
        toSnakeKeys({
          ...input,
          possibleCategories: input.possibleCategories ?? null,
          returnEmbedding: options.returnEmbedding,
        }) satisfies ClassifyRequest,
        classifyResultSchema,
        options,
      ),

    // Options the caller left out are left out of the body: the service's defaults apply.
    compress: (input, options) =>
      post('compress', toSnakeKeys(input) satisfies CompressRequest, compressResultSchema, options),

    async readiness() {
      try {
        const response = await http.get('readyz', {
          retry: { limit: 0 },
          timeout: { request: 1000 },
          throwHttpErrors: false,
        });
        const parsed = mlReadinessSchema.safeParse(response.body);
        return parsed.success ? parsed.data : { ready: false, error: 'unexpected /readyz answer' };
      } catch (error) {
        return { ready: false, error: mlError(error, baseUrl, 1000, secrets).message };
      }
    },

    breaker: () => breaker.snapshot(),
  };
}
