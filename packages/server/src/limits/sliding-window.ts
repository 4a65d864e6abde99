/**
 * The one-minute window is a sliding-window counter over one-second buckets,
 * not a log of every request: a log costs memory (and, in Redis, a sorted-set
 * entry) per request, which at 1,000,000 requests or tokens per minute is far
 * too much, and tokens arrive in lumps a log would have to store one by one.
 * Buckets bound each key to 61 numbers per window whatever its limit, and
 * unlike the two-fixed-windows approximation they still say exactly when
 * capacity comes back, so retryAfterMs is precise.
 *
 * A unit counted in bucket b stays counted until bucket b + 61 begins, i.e. for
 * 60 to 61 seconds. Erring on the long side means no true 60-second span ever
 * holds more than the limit, which is what the upstream providers enforce.
 * The Redis script (redis-scripts.ts) implements the same arithmetic.
 */
export const BUCKET_MS = 1000;
export const WINDOW_BUCKETS = 61;
/** How long a bucket stays in the window, for Redis key expiry. */
export const WINDOW_MS = BUCKET_MS * WINDOW_BUCKETS;

export const bucketOf = (now: number) => Math.floor(now / BUCKET_MS);

/** When a unit counted in `bucket` leaves the window. */
export const leavesAt = (bucket: number) => (bucket + WINDOW_BUCKETS) * BUCKET_MS;

/** One key's counts of one kind (requests or tokens) over the last minute, in memory. */
export class SlidingWindow {
  /** Oldest first; at most WINDOW_BUCKETS entries once pruned. */
  private readonly buckets: Array<{ bucket: number; amount: number }> = [];
  private sum = 0;

  /** The amount counted in the window at `now`. */
  total(now: number): number {
    this.prune(now);
    return this.sum;
  }

  add(now: number, amount: number) {
    this.prune(now);
    const bucket = bucketOf(now);
    const last = this.buckets.at(-1);
    // `>=` also covers a clock that stepped back: the amount joins the newest bucket.
    if (last && last.bucket >= bucket) last.amount += amount;
    else this.buckets.push({ bucket, amount });
    this.sum += amount;
  }

  /** Milliseconds from `now` until the total has fallen to `target` or below. */
  msUntilAtMost(now: number, target: number): number {
    this.prune(now);
    let left = this.sum;
    if (left <= target) return 0;
    for (const { bucket, amount } of this.buckets) {
      left -= amount;
      if (left <= target) return leavesAt(bucket) - now;
    }
    return 0;
  }

  /** Number of buckets held, for tests of the memory bound. */
  get size() {
    return this.buckets.length;
  }

  private prune(now: number) {
    const oldestLive = bucketOf(now) - WINDOW_BUCKETS + 1;
    let oldest = this.buckets[0];
    while (oldest && oldest.bucket < oldestLive) {
      this.sum -= oldest.amount;
      this.buckets.shift();
      oldest = this.buckets[0];
    }
  }
}
