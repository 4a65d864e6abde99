import type { CacheStore, StoreEvents } from './cache-store.ts';

interface Slot {
  value: string | string[];
  bytes: number;
  expiresAt: number;
}

/** Roughly what a string costs in V8 (two bytes a character) plus the map's own overhead. */
const sizeOf = (key: string, value: string | string[]) =>
  2 * (key.length + (typeof value === 'string' ? value.length : value.reduce((sum, v) => sum + v.length + 8, 0))) + 96;

/**
 * An LRU bounded in bytes: reading an entry makes it the newest, and writing
 * evicts the oldest until everything fits. Expired entries are dropped when
 * read or when eviction reaches them. Counters (one per API key) are kept
 * apart and never evicted: a purge must outlive any eviction.
 */
export class MemoryStore implements CacheStore {
  readonly kind = 'memory';
  private readonly slots = new Map<string, Slot>();
  private readonly counters = new Map<string, number>();
  private held = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly events: Pick<StoreEvents, 'evicted'>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<string | null> {
    const value = this.read(key);
    return typeof value === 'string' ? value : null;
  }

  async set(key: string, value: string, ttlMs: number) {
    return this.write(key, value, ttlMs);
  }

  async push(key: string, value: string, cap: number, ttlMs: number) {
    const current = this.read(key);
    const list = [value, ...(Array.isArray(current) ? current : [])].slice(0, cap);
    const left = (this.slots.get(key)?.expiresAt ?? 0) - this.now();
    this.write(key, list, Math.max(ttlMs, left));
  }

  async list(key: string): Promise<string[]> {
    const value = this.read(key);
    return Array.isArray(value) ? value : [];
  }

  async counter(key: string): Promise<number | null> {
    return this.counters.get(key) ?? 0;
  }

  async bump(key: string) {
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  bytes() {
    return this.held;
  }

  async close() {
    this.slots.clear();
    this.held = 0;
  }

  private read(key: string) {
    const slot = this.slots.get(key);
    if (!slot) return null;
    if (slot.expiresAt <= this.now()) {
      this.drop(key, slot);
      return null;
    }
    // The newest again: Map keeps insertion order, so the first key is the least recently used.
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  private write(key: string, value: string | string[], ttlMs: number): boolean {
    const old = this.slots.get(key);
    if (old) this.drop(key, old);
    const bytes = sizeOf(key, value);
    // One entry larger than the whole budget would evict everything and then not fit.
    if (bytes > this.maxBytes) return false;
    this.slots.set(key, { value, bytes, expiresAt: this.now() + ttlMs });
    this.held += bytes;
    let evicted = 0;
    for (const [oldest, slot] of this.slots) {
      if (this.held <= this.maxBytes) break;
      this.drop(oldest, slot);
      if (slot.expiresAt > this.now()) evicted += 1;
    }
    if (evicted > 0) this.events.evicted(evicted);
    return true;
  }

  private drop(key: string, slot: Slot) {
    this.slots.delete(key);
    this.held -= slot.bytes;
  }
}
