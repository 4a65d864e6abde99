import {
  type Admission,
  admitted,
  type KeyLimits,
  once,
  type RateLimiter,
  refuse,
  STREAM_RETRY_MS,
} from './rate-limiter.ts';
import { SlidingWindow, WINDOW_MS } from './sliding-window.ts';

interface KeyState {
  requests: SlidingWindow;
  tokens: SlidingWindow;
  streams: number;
}

export interface MemoryRateLimiter extends RateLimiter {
  /** How many keys have state in memory, to show that idle keys are forgotten. */
  readonly trackedKeys: number;
}

/**
 * Counters in this process only: right for one gateway instance. admit() runs
 * synchronously to its end, so its three checks are atomic without a lock.
 */
export function createMemoryRateLimiter(options: { now?: () => number } = {}): MemoryRateLimiter {
  const now = options.now ?? Date.now;
  const keys = new Map<string, KeyState>();
  let lastSweep = now();

  // Idle keys are swept from the request path at most once a minute, which keeps
  // memory proportional to the keys active in the last two minutes with no timer.
  function sweep(at: number) {
    if (at - lastSweep < WINDOW_MS) return;
    lastSweep = at;
    for (const [key, state] of keys) {
      if (state.streams === 0 && state.requests.total(at) === 0 && state.tokens.total(at) === 0) keys.delete(key);
    }
  }

  function stateOf(key: string): KeyState {
    let state = keys.get(key);
    if (!state) {
      state = { requests: new SlidingWindow(), tokens: new SlidingWindow(), streams: 0 };
      keys.set(key, state);
    }
    return state;
  }

  return {
    get trackedKeys() {
      return keys.size;
    },

    async admit(key: string, limits: KeyLimits, { stream }: { stream: boolean }): Promise<Admission> {
      const at = now();
      sweep(at);
      const state = stateOf(key);
      const { requestsPerMinute: rpm, tokensPerMinute: tpm, concurrentStreams: maxStreams } = limits;
      const refusals: Admission[] = [];
      if (rpm !== undefined && state.requests.total(at) >= rpm) {
        refusals.push(refuse(key, 'requests', rpm, state.requests.msUntilAtMost(at, rpm - 1)));
      }
      if (tpm !== undefined && state.tokens.total(at) >= tpm) {
        refusals.push(refuse(key, 'tokens', tpm, state.tokens.msUntilAtMost(at, tpm - 1)));
      }
      if (stream && maxStreams !== undefined && state.streams >= maxStreams) {
        refusals.push(refuse(key, 'streams', maxStreams, STREAM_RETRY_MS));
      }
      const refusal = longestWait(refusals);
      if (refusal) return refusal;

      // Unlimited dimensions count nothing: there is nothing to check them against.
      if (rpm !== undefined) state.requests.add(at, 1);
      if (!stream || maxStreams === undefined) return admitted;
      state.streams += 1;
      return {
        ok: true,
        release: once(async () => {
          state.streams -= 1;
        }),
      };
    },

    async recordTokens(key: string, tokens: number) {
      if (!(tokens > 0)) return;
      const at = now();
      sweep(at);
      stateOf(key).tokens.add(at, Math.round(tokens));
    },

    async close() {
      keys.clear();
    },
  };
}

/**
 * When several limits refuse, the caller is told about the one it must wait for
 * longest; retrying after a shorter hint would only be refused again.
 */
export function longestWait(refusals: Admission[]): Admission | undefined {
  let chosen: Admission | undefined;
  for (const refusal of refusals) {
    if (refusal.ok) continue;
    if (!chosen || chosen.ok || refusal.retryAfterMs > chosen.retryAfterMs) chosen = refusal;
  }
  return chosen;
}
