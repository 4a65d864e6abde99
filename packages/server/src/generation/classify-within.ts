import { setTimeout as sleep } from 'node:timers/promises';
import type { MlClassifyOptions, MlClient } from '../ml/client.ts';
import type { ClassifyInput, ClassifyResult } from '../ml/schemas.ts';
import { shedsLoad, upstreamFailureOf } from '../providers/errors.ts';

// Full-jitter backoff: the callers a burst got refused come back spread over the
// pause, not together, so the service's queue refills evenly instead of in waves.
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 100;
// Each retry adds to a busy service's load: a few spread-out tries, not one every few ms.
const MOST_RETRIES = 3;
// The service's "busy" says 1 s, its "loading a model" 5 s: only the first may clear soon.
const SOON_MS = 1000;

/** The ML service refused for load (503, Retry-After of a second): asking again soon may succeed. */
function isBusy(error: unknown) {
  const failure = upstreamFailureOf(error);
  return failure !== null && shedsLoad(failure) && (failure.details.retryAfterMs ?? Infinity) <= SOON_MS;
}

export interface ClassifyWithinOptions extends Pick<MlClassifyOptions, 'requestId' | 'returnEmbedding'> {
  signal: AbortSignal;
  /** The routing deadline (ROUTING_CLASSIFY_TIMEOUT_MS): the whole call, retries included, ends by then. */
  timeoutMs: number;
  /** For tests: a number in [0, 1). */
  random?: () => number;
}

/**
 * selectModel's classification. The service's Retry-After (a second) is longer
 * than routing waits (300 ms by default), so a busy refusal is retried up to
 * three times after short random pauses, while the deadline allows; any other
 * failure, and the last refusal, go to the caller, which then routes to the
 * default category.
 */
export async function classifyWithin(
  ml: MlClient,
  input: ClassifyInput,
  { requestId, signal, timeoutMs, returnEmbedding, random = Math.random }: ClassifyWithinOptions,
): Promise<ClassifyResult> {
  const deadline = performance.now() + timeoutMs;
  // A timer of our own rather than AbortSignal.timeout: on Node 20 a timeout signal
  // held only through AbortSignal.any can be garbage-collected and never fire.
  const timer = new AbortController();
  const timeout = setTimeout(
    () => timer.abort(new DOMException('The routing deadline passed.', 'TimeoutError')),
    timeoutMs,
  );
  const within = AbortSignal.any([signal, timer.signal]);
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await ml.classify(input, { requestId, signal: within, returnEmbedding });
      } catch (error) {
        if (!isBusy(error) || attempt >= MOST_RETRIES) throw error;
        const pause = random() * Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** attempt);
        if (performance.now() + pause >= deadline) throw error;
        await sleep(pause, undefined, { signal: within }).catch(() => {
          throw error;
        });
      }
    }
  } finally {
    clearTimeout(timeout);
  }
}
