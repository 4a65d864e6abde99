import { setTimeout as sleep } from 'node:timers/promises';
import type { MlCallOptions, MlClient } from '../ml/client.ts';
import type { ClassifyInput, ClassifyResult } from '../ml/schemas.ts';
import { upstreamFailureOf } from '../providers/errors.ts';

// Full-jitter backoff: the callers a burst got refused come back spread over the
// pause, not together, so the service's queue refills evenly instead of in waves.
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 100;

/** The ML service refused for load (503 with Retry-After): asking again soon may succeed. */
function isBusy(error: unknown) {
  const failure = upstreamFailureOf(error);
  return failure?.kind === 'status' && failure.details.status === 503 && failure.details.retryAfterMs !== null;
}

export interface ClassifyWithinOptions extends Pick<MlCallOptions, 'requestId'> {
  signal: AbortSignal;
  /** The routing deadline (ROUTING_CLASSIFY_TIMEOUT_MS): the whole call, retries included, ends by then. */
  timeoutMs: number;
  /** For tests: a number in [0, 1). */
  random?: () => number;
}

/**
 * selectModel's classification. The service's Retry-After (a second) is longer
 * than routing waits (300 ms by default), so a busy refusal is retried after a
 * short random pause for as long as the deadline allows; any other failure, and
 * the last refusal, go to the caller, which then routes to the default category.
 */
export async function classifyWithin(
  ml: MlClient,
  input: ClassifyInput,
  { requestId, signal, timeoutMs, random = Math.random }: ClassifyWithinOptions,
): Promise<ClassifyResult> {
  const deadline = performance.now() + timeoutMs;
  const within = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await ml.classify(input, { requestId, signal: within });
    } catch (error) {
      if (!isBusy(error)) throw error;
      const pause = random() * Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** attempt);
      if (performance.now() + pause >= deadline) throw error;
      await sleep(pause, undefined, { signal: within }).catch(() => {
        throw error;
      });
    }
  }
}
