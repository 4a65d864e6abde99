import { TRPCError } from '@trpc/server';
import { type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import type { Config } from '../config.ts';
import { shedsLoad, UpstreamFailure, upstreamFailureOf } from './errors.ts';

export interface BreakerOptions extends CountingRules {
  /** Consecutive failures that open the circuit (BREAKER_FAILURE_THRESHOLD). */
  failureThreshold: number;
  /** How long an open circuit fails fast before one trial request (BREAKER_COOLDOWN_MS). */
  cooldownMs: number;
}

export function breakerOptions(config: Config): BreakerOptions {
  return { failureThreshold: config.BREAKER_FAILURE_THRESHOLD, cooldownMs: config.BREAKER_COOLDOWN_MS };
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What /readyz reports for each breaker. */
export interface BreakerSnapshot {
  state: BreakerState;
  /** Consecutive failures counted so far (reset by a success). */
  failures: number;
  /** Until the next trial request, while open. */
  retryInMs: number | null;
}

/** How an upstream's own "come back later" is read. */
export interface CountingRules {
  /**
   * A 503 with Retry-After is load shedding, not failure. True for the ML
   * service, whose 503s with Retry-After say "busy" or "loading" (counting them
   * let one burst shut every caller out for the whole cool-down); false for
   * providers, where a proxy in front of a provider that is down may send one.
   */
  sheddingIsNeutral?: boolean;
}

/**
 * Whether a failure says the upstream is unhealthy. Not counted: 4xx (the
 * request or the gateway's own key is wrong, and the breaker's message would
 * hide which), 429 (the provider is healthy and protecting a quota, often per
 * model, and says itself when to come back), a 503 with Retry-After where
 * `rules` say so, the caller leaving, and the total time limit (a long answer
 * at normal speed).
 */
export function countsAgainstUpstream(error: unknown, rules: CountingRules = {}): boolean {
  const failure = upstreamFailureOf(error);
  if (!failure) return false;
  switch (failure.kind) {
    case 'connect':
    case 'timeout':
    case 'stream':
      return true;
    case 'status':
      if (rules.sheddingIsNeutral && shedsLoad(failure)) return false;
      return (failure.details.status ?? 0) >= 500;
    default:
      return false;
  }
}

/** The outcomes cockatiel sees: only a CountedFailure counts, anything else it lets through. */
class CountedFailure extends Error {}
class NeutralOutcome extends Error {}

/** One admitted call; exactly the first outcome reported counts. */
export interface BreakerLease {
  /** The one call let through after the cool-down: its outcome closes or reopens the circuit. */
  readonly trial: boolean;
  /** Tokens are flowing: enough for a half-open trial to close the circuit. */
  progress(): void;
  succeed(): void;
  /** Counts the failure when countsAgainstUpstream says so, and is neutral otherwise. */
  fail(error: unknown): void;
  /** Neither success nor failure (the caller left). */
  release(): void;
}

/**
 * A circuit breaker for one upstream, over cockatiel's policy. Calls are
 * streams, so instead of `execute(fn)` a call takes a lease and reports how
 * it went, a mid-stream failure included.
 *
 * ConsecutiveBreaker rather than SamplingBreaker: a gateway instance sees few
 * and bursty requests per provider, too few for a failure rate over a time
 * window to mean much, while "N failures in a row" is predictable, easy to
 * explain in an error message, and reset by any success. Intermittent failures
 * are left to retries and selectModel's fallback; the breaker is for "down".
 */
export class Breaker {
  private readonly counter: ConsecutiveBreaker;
  private readonly policy: CircuitBreakerPolicy;
  private openedAt = 0;
  /** The run of failures that opened the circuit: calls admitted before it may still succeed and reset the live count. */
  private failuresAtBreak = 0;

  /**
   * @param name the upstream's name in `error.data.upstream.provider` and /readyz
   * @param subject how messages name it: `Provider "groq"`, `The ML service`
   */
  constructor(
    readonly name: string,
    private readonly subject: string,
    private readonly options: BreakerOptions,
  ) {
    this.counter = new ConsecutiveBreaker(options.failureThreshold);
    this.policy = circuitBreaker(
      handleWhen((error) => error instanceof CountedFailure),
      { halfOpenAfter: options.cooldownMs, breaker: this.counter },
    );
    this.policy.onBreak(() => {
      this.openedAt = Date.now();
      this.failuresAtBreak = this.counter.state;
    });
  }

  private retryInMs() {
    return Math.max(0, this.openedAt + this.options.cooldownMs - Date.now());
  }

  snapshot(): BreakerSnapshot {
    const state = this.policy.state;
    if (state === CircuitState.Closed) return { state: 'closed', failures: this.counter.state, retryInMs: null };
    // A call admitted before the circuit opened may still succeed and reset the live count.
    const failures = this.failuresAtBreak;
    // cockatiel leaves "open" only when the next call arrives; after the cool-down
    // that call is the trial, so the circuit is as good as half-open.
    const retryInMs = state === CircuitState.Open ? this.retryInMs() : 0;
    return retryInMs > 0 ? { state: 'open', failures, retryInMs } : { state: 'half-open', failures, retryInMs: null };
  }

  private openError(retryAfterMs: number | null) {
    const when =
      retryAfterMs === null ? 'a trial request is under way' : `retrying in ${Math.ceil(retryAfterMs / 1000)} s`;
    const message = `${this.subject} is failing (circuit open after ${this.failuresAtBreak} consecutive failures); ${when}.`;
    const details = { provider: this.name, status: null, retryAfterMs };
    return new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message,
      cause: new UpstreamFailure(message, details, 'circuit-open'),
    });
  }

  /** Admits one call, or throws SERVICE_UNAVAILABLE at once while the circuit is open. */
  admit(): BreakerLease {
    const state = this.policy.state;
    // cockatiel would queue calls behind a half-open trial; failing fast lets
    // selectModel move on to another model instead.
    if (state === CircuitState.HalfOpen) throw this.openError(null);
    if (state === CircuitState.Open && this.retryInMs() > 0) throw this.openError(this.retryInMs());
    const trial = state === CircuitState.Open;

    let settle!: (error?: Error) => void;
    const outcome = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    // The outcome reaches callers through the stream itself; cockatiel only keeps count.
    this.policy.execute(() => outcome).catch(() => undefined);

    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return false;
      settled = true;
      settle(error);
      return true;
    };
    return {
      trial,
      // A trial must not hold the circuit half-open for a whole long answer.
      progress: () => {
        if (trial) finish();
      },
      succeed: () => finish(),
      fail: (error) => {
        const counted = countsAgainstUpstream(error, this.options);
        if (finish(counted ? new CountedFailure() : new NeutralOutcome())) return;
        // A trial that closed the circuit and then broke mid-stream still counts.
        if (counted && this.policy.state === CircuitState.Closed) {
          this.policy.execute(() => Promise.reject(new CountedFailure())).catch(() => undefined);
        }
      },
      release: () => finish(new NeutralOutcome()),
    };
  }
}
