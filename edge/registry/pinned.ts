/**
 * Versions loaded for pinned URLs (`{id}@{version}`) that the isolate does not serve or keep warm: an LRU
 * (lru-cache) bounded in count and in graph bytes, whose dispose hook is where the cache lets go of an entry
 * (holds.ts releases it once nothing else holds it). A version still loading is not in the LRU, so it can never be
 * evicted half-loaded; concurrent requests for it share one load. A version the store does not have is remembered
 * for a short while, so unknown `{id}@{version}` URLs do not read R2 on every request.
 */
import { LRUCache } from 'lru-cache';
import { PINNED_MAX_GRAPH_BYTES, PINNED_MAX_MISSES, PINNED_MAX_VERSIONS, PINNED_MISS_TTL_MS } from '../api/limits.js';
import type { VersionHolds } from './holds.js';
import type { ServedModel } from './registry.js';
import { waitWithOwnTimer } from './timers.js';

/** What a load found: the loaded entry, or null when the store has no such version. */
export type PinnedLoad = () => Promise<ServedModel | null>;

export class PinnedVersions {
  /**
   * Each entry is boxed: lru-cache recomputes an item's size only when another value is set for its key, so a version
   * that grew is set again in a new box (grew()), without disposing it.
   */
  private readonly cache: LRUCache<string, { entry: ServedModel }>;
  private readonly loading = new Map<string, { result: Promise<ServedModel | null>; startedAt: number }>();
  private readonly missing: LRUCache<string, true>;
  /** How often each key was forgotten: a load that started before the latest forget() is stale. */
  private readonly forgets = new Map<string, number>();

  constructor(
    private readonly holds: VersionHolds,
    private readonly now: () => number,
  ) {
    this.cache = new LRUCache<string, { entry: ServedModel }>({
      max: PINNED_MAX_VERSIONS,
      maxSize: PINNED_MAX_GRAPH_BYTES,
      // A version larger than the whole budget still stays (alone) once loaded: it counts as the whole budget.
      sizeCalculation: ({ entry }) => Math.max(1, Math.min(entry.bytes, PINNED_MAX_GRAPH_BYTES)),
      dispose: ({ entry }) => this.holds.drop(entry, 'pinned'),
    });
    // The registry's clock (tests move it). lru-cache reads a start time of 0 as "no TTL": a clock that starts at 0
    // is shifted by one.
    this.missing = new LRUCache<string, true>({ max: PINNED_MAX_MISSES, ttl: PINNED_MISS_TTL_MS, ttlResolution: 0, perf: { now: () => now() + 1 } });
  }

  /**
   * The loaded version `key`, loading it with `load` if no request is already; null if the store has no such version
   * (now, or when last asked within PINNED_MISS_TTL_MS). Undefined if another request's load takes over `waitMs`.
   */
  async get(key: string, load: PinnedLoad, waitMs: number): Promise<ServedModel | null | undefined> {
    const hit = this.cache.get(key)?.entry;
    if (hit) return hit;
    if (this.missing.has(key)) return null;
    const pending = this.loading.get(key);
    // Another request's load: its I/O is that request's, so this one waits with a timer of its own (timers.ts). A
    // load older than the wait is given up: the request that started it may have been cancelled, and then its I/O
    // never settles (sync.ts); without this every later request would wait for it and fail, for the isolate's life.
    if (pending && this.now() - pending.startedAt <= waitMs) return waitWithOwnTimer(pending.result, waitMs);
    const generation = this.forgets.get(key) ?? 0;
    const result = load().then((entry): ServedModel | null | 'stale' => {
      // A delete or an upload of this version while it loaded: what the load read may be gone or out of date.
      if ((this.forgets.get(key) ?? 0) !== generation) {
        if (entry) {
          this.holds.hold(entry, 'pinned');
          this.holds.drop(entry, 'pinned'); // released once no request in flight can be using it
        }
        return 'stale';
      }
      if (entry === null) this.missing.set(key, true);
      else {
        this.holds.hold(entry, 'pinned');
        this.cache.set(key, { entry }); // may evict others (never this one): their dispose lets go of them
      }
      return entry;
    });
    const settled = result.then((r) => (r === 'stale' ? null : r));
    settled.catch(() => {}); // a failed load is this request's error (below); waiters, if any, see it too
    this.loading.set(key, { result: settled, startedAt: this.now() });
    let r: ServedModel | null | 'stale';
    try {
      r = await result;
    } finally {
      if (this.loading.get(key)?.result === settled) this.loading.delete(key); // a failure is not remembered: the next request tries again
    }
    return r === 'stale' ? this.get(key, load, waitMs) : r;
  }

  /** The loaded (or loading) version `key` without counting as a use, or undefined. */
  async peek(key: string): Promise<ServedModel | undefined> {
    return this.cache.peek(key)?.entry ?? (await this.loading.get(key)?.result.catch(() => null)) ?? undefined;
  }

  /** Lets go of `key` (its version was deleted) and forgets that it was missing (it was uploaded). */
  forget(key: string): void {
    this.forgets.set(key, (this.forgets.get(key) ?? 0) + 1);
    this.cache.delete(key);
    this.missing.delete(key);
  }

  /**
   * `entry` read another graph after it was cached (a VAE's encoder, after the decoder its first request opened): the
   * byte budget counts it from now on (it may evict others, never this one).
   */
  grew(key: string, entry: ServedModel): void {
    if (this.cache.peek(key)?.entry === entry) this.cache.set(key, { entry }, { noDisposeOnSet: true });
  }

  /** The graph bytes the cache counts against PINNED_MAX_GRAPH_BYTES. */
  graphBytes(): number {
    return this.cache.calculatedSize;
  }

  /** Loaded keys, least recently used first. */
  keys(): string[] {
    return [...this.cache.rkeys()];
  }
}
