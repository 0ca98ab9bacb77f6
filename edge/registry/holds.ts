/**
 * One owner per loaded version. A registry version's entry is held by the live slot (it serves its id), the warm
 * slot (it served just before: a rollback to it is instant), the pinned cache (a `{id}@{version}` URL asked for
 * it), and by the requests in flight when the last of those let go. Its sessions are released exactly once, when
 * nothing holds it. Before this, the pinned cache and the retired list each released an entry the other still
 * served, and onnxruntime-web reuses a released session's id (a heap address) for the next session: a released
 * session then ran another version's graph, and a pinned URL answered other bytes (issue 26).
 *
 * In-flight requests are counted by epochs rather than per entry, since routes resolve an entry and keep it for
 * the whole request: an entry dropped while request n was the newest is released once every request <= n has
 * finished (new requests cannot find it any more). A request that never finishes would pin every later drop, so
 * after `graceMs` the entry is released anyway; its guarded sessions then refuse to run (a 503 for that request,
 * never another graph's bytes).
 */
import { HttpError } from '../api/errors.js';
import type { InferenceSession } from '../../shared/runtime.js';

export type Holder = 'live' | 'warm' | 'pinned';

/** What holds() tracks of an entry: who holds it and whether its sessions are gone. */
export interface Held {
  id: string;
  holders: Set<Holder>;
  released: boolean;
  sessions: Map<string, Promise<InferenceSession>>;
}

/**
 * A session that refuses to run once released (instead of running whatever onnxruntime put at its address since),
 * and releases the runtime's session once.
 */
export function guardSession(inner: InferenceSession, label: string): InferenceSession {
  let released = false;
  return {
    inputNames: inner.inputNames,
    outputNames: inner.outputNames,
    run: (feeds) => (released ? Promise.reject(new HttpError(503, 'model_unavailable', `model "${label}" was unloaded while this request used it; retry`)) : inner.run(feeds)),
    release: async () => {
      if (released) return;
      released = true;
      await inner.release?.();
    },
  };
}

export class VersionHolds {
  private lastRequest = 0;
  /** Requests in flight, by number. */
  private readonly running = new Set<number>();
  /** Entries nothing holds any more, waiting for the requests that may still use them. */
  private dropped: { entry: Held; after: number; at: number }[] = [];

  constructor(
    private readonly now: () => number,
    private readonly graceMs: number,
  ) {}

  /** Marks a request in flight; call the returned function when it has finished. */
  begin(): () => void {
    const n = ++this.lastRequest;
    this.running.add(n);
    return () => {
      this.running.delete(n);
      this.collect();
    };
  }

  hold(entry: Held, by: Holder): void {
    if (entry.released) throw new Error(`${entry.id}: a released entry cannot be held again`);
    entry.holders.add(by);
  }

  /** `by` lets go of `entry`; the last holder to let go hands it to collect(). */
  drop(entry: Held, by: Holder): void {
    if (!entry.holders.delete(by) || entry.holders.size > 0) return;
    this.dropped.push({ entry, after: this.lastRequest, at: this.now() });
    this.collect();
  }

  /** Releases dropped entries no request in flight can be using (or dropped longer than the grace period ago). */
  collect(): void {
    let oldest = Infinity;
    for (const n of this.running) oldest = Math.min(oldest, n);
    const now = this.now();
    this.dropped = this.dropped.filter(({ entry, after, at }) => {
      if (entry.holders.size > 0) return false; // held again: its next drop queues it anew
      if (oldest <= after && now - at < this.graceMs) return true;
      release(entry);
      return false;
    });
  }

  /** Entries dropped and still waiting for requests in flight to finish (tests/unit/registry-pinned.test.ts). */
  pending(): number {
    return this.dropped.length;
  }
}

/** Releases every session of `entry`, those still opening included (when they open). */
export function release(entry: Held): void {
  if (entry.released) return;
  entry.released = true;
  for (const s of entry.sessions.values()) void s.then((x) => x.release?.()).catch(() => {});
}
