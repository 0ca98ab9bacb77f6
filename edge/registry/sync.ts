/**
 * Keeps an isolate's registry in step with the R2 pointers: at most every `intervalMs` (30 s by default) a request
 * triggers a check in the background; a newly activated version is loaded and warmed while the old one keeps
 * serving, then takes over. An isolate's first request waits for the first check (bounded by `firstWaitMs`), so a
 * fresh isolate does not serve the bundled model of an id the registry overrides. R2 errors are logged and leave
 * what serves unchanged; the bundled models are the fallback when R2 is empty or unreachable.
 *
 * A check's I/O belongs to the request that started it, and workerd cancels that I/O when the request ends unless
 * the request handed the check to waitUntil: every request that starts or sees a check hands it over, the first
 * one included. A check cancelled anyway never settles; one older than `stuckMs` is abandoned and a new one starts,
 * and once a first request has waited `firstWaitMs` in vain, later ones stop waiting for the first check.
 */
import type { ModelRegistry } from './registry.js';
import type { ModelStore } from './store.js';
import { waitWithOwnTimer } from './timers.js';

export interface SyncOptions {
  /** How stale an isolate's view of the pointers may get, in ms. */
  intervalMs?: number;
  /** How long an isolate's first request waits for the first check before serving what is bundled. */
  firstWaitMs?: number;
  /** A check still running after this long is taken for cancelled (default: 60 s or twice the interval). */
  stuckMs?: number;
  now?: () => number;
}

/** A version that failed to load is retried after this long (a new activation of it retries at once). */
const RETRY_FAILED_MS = 60_000;

export class ModelSync {
  private readonly intervalMs: number;
  private readonly firstWaitMs: number;
  private readonly stuckMs: number;
  private readonly now: () => number;
  private checkedAt = -Infinity;
  private running: Promise<void> | null = null;
  private startedAt = -Infinity;
  /** The isolate's first check, bounded by firstWaitMs: every request waits for it; null once it is over. */
  private first: Promise<void> | null | undefined;
  private readonly failed = new Map<string, number>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly store: ModelStore,
    opts: SyncOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 30_000;
    this.firstWaitMs = opts.firstWaitMs ?? 10_000;
    // NaN would make every check look not yet due, and the first request would wait on a check never started.
    if (!(this.intervalMs >= 0) || !(this.firstWaitMs >= 0)) throw new RangeError(`model sync intervals must be numbers >= 0, got ${this.intervalMs} and ${this.firstWaitMs} ms`);
    this.stuckMs = opts.stuckMs ?? Math.max(60_000, 2 * this.intervalMs);
    this.now = opts.now ?? Date.now;
  }

  /** The check running now, or null; one running longer than stuckMs is abandoned (its I/O was cancelled). */
  private current(): Promise<void> | null {
    if (this.running && this.now() - this.startedAt >= this.stuckMs) {
      console.error(`model registry: a check started ${this.now() - this.startedAt} ms ago never finished; starting another`);
      this.running = null;
    }
    return this.running;
  }

  private start(): Promise<void> {
    this.startedAt = this.now();
    const run: Promise<void> = this.check().finally(() => {
      if (this.running === run) this.running = null; // not a newer check that replaced an abandoned one
    });
    this.running = run;
    return run;
  }

  /** Called before each request: starts a check when one is due; requests wait only for the isolate's first one. */
  async beforeRequest(waitUntil?: (p: Promise<unknown>) => void): Promise<void> {
    let running = this.current();
    if (!running && this.now() - this.checkedAt >= this.intervalMs) running = this.start();
    if (running) waitUntil?.(running);
    if (this.first === undefined) this.first = (running ?? Promise.resolve()).finally(() => (this.first = null));
    if (this.first && (await waitWithOwnTimer(this.first.then(() => true), this.firstWaitMs)) === undefined) {
      // Waited in vain: the bundled models serve until the check ends, and no later request waits for it again.
      this.first = null;
    }
  }

  /** Checks now (after a check already running) and waits for it: the admin API calls it after a change. */
  async checkNow(): Promise<void> {
    for (let running = this.current(); running; running = this.current()) await waitWithOwnTimer(running, this.stuckMs);
    await this.start();
  }

  private async check(): Promise<void> {
    this.checkedAt = this.now();
    for (const [key, at] of this.failed) if (this.checkedAt - at >= RETRY_FAILED_MS) this.failed.delete(key);
    let ids: string[];
    try {
      ids = await this.store.ids();
    } catch (err) {
      console.error(`model registry: cannot list R2: ${(err as Error).message}; serving what is loaded`);
      return;
    }
    await Promise.all([...new Set([...ids, ...this.registry.liveIds()])].map((id) => this.follow(id)));
    this.registry.sweep();
  }

  /** Makes `id` serve what its pointer names, if that version can be loaded. */
  private async follow(id: string): Promise<void> {
    let want: string | null = null;
    let key = '';
    try {
      const { pointer } = await this.store.pointer(id);
      want = pointer.active;
      key = `${id}@${want}@${pointer.updatedAt}`;
      if (want === this.registry.liveVersion(id)) return;
      if (want === null) {
        this.registry.demote(id);
        console.log(`model ${id}: registry pointer cleared, serving the bundled model`);
        return;
      }
      if (this.now() - (this.failed.get(key) ?? -Infinity) < RETRY_FAILED_MS) return;
      const manifest = await this.store.manifest(id, want);
      if (manifest === null) throw new Error(`the pointer names version ${want}, which is not stored`);
      const t0 = this.now();
      await this.registry.serve(id, want, this.store.source(id, want, manifest));
      this.failed.delete(key);
      console.log(`model ${id}: now serving version ${want} (loaded in ${this.now() - t0} ms)`);
    } catch (err) {
      if (want !== null) this.failed.set(key, this.now());
      console.error(`model ${id}: cannot follow the registry pointer: ${(err as Error).message}; still serving ${this.registry.versionOf(id) ?? 'nothing'}`);
    }
  }
}
