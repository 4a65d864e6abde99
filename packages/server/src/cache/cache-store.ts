/**
 * Where cached answers live: this process's memory, or Redis shared by every
 * instance. Both keep what the response cache needs and nothing more: values
 * with a time to live, bounded lists (a semantic partition's entries, newest
 * first), and counters (an API key's generation, which a purge bumps).
 *
 * A store never throws for an outage: a failed read is a miss and a failed
 * write is skipped, and `onError` says so, so the gateway keeps answering
 * from upstream while the store is down.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  /** Resolves true once stored, false when the store could not take it. */
  set(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Prepends `value` to the list at `key` and keeps its newest `cap` items; the
   * list lives at least `ttlMs` more (a shorter-lived item never shortens it).
   */
  push(key: string, value: string, cap: number, ttlMs: number): Promise<void>;
  list(key: string): Promise<string[]>;
  /** The counter at `key` (0 when absent), or null when the store cannot say. */
  counter(key: string): Promise<number | null>;
  /** Adds one to the counter at `key`. */
  bump(key: string): Promise<void>;
  /** Bytes held, where the store can tell (memory); null for Redis. */
  bytes(): number | null;
  close(): Promise<void>;
}

export interface StoreEvents {
  /** Entries dropped to stay within the byte budget. */
  evicted(count: number): void;
  /** The store could not be read or written; the request went on without it. */
  failed(operation: 'read' | 'write', error: unknown): void;
}
