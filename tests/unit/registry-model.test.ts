/**
 * A model-based test of the registry (issue 26): seeded random walks drive two isolates (two createApp instances,
 * each with its own registry, sync, caches and slot runtime, tests/helpers/slot-runtime.ts) over one in-memory R2
 * bucket: uploads, activations, rollbacks and deletes through isolate A's admin API, time passing (past the sync
 * interval, the negative cache's TTL, the release grace period), and pinned and unpinned requests on both (sample.png,
 * and POST generate with fixed latents, the issue's own probe), some racing an activation. A small model of the pointer predicts every answer, and after every step:
 *   - a pinned URL answers the bytes it first answered (in either isolate), or 404 once its version is deleted;
 *   - no released session is ever run (the slot runtime counts it; it would run another version's graph);
 *   - sessions do not pile up: open ones never exceed what the slots can hold (bundled, live, warm, pinned);
 *   - an unpinned URL serves the pointer's version: at once in A (the admin API syncs), and in B from the first
 *     request after MODEL_SYNC_SECONDS (a request starts the check; the next one is served by its result).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../edge/app.js';
import { ModelStore } from '../../edge/registry/store.js';
import { PINNED_MAX_VERSIONS, PINNED_MISS_TTL_MS } from '../../edge/api/limits.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { SeededRandom } from '../../shared/rng.js';
import { sha256Hex } from '../../shared/hash.js';
import { fakeVersion, SlotRuntime } from '../helpers/slot-runtime.js';
import { MemoryBucket } from '../helpers/memory-bucket.js';
import { loadModelDir } from '../helpers/models-on-disk.js';

const TOKEN = 'model-test-admin-token-0123456789abcdef';
const SYNC_SECONDS = 1;
const base = validateManifest(loadModelDir('models/dcgan-fashion').manifest);
type Version = { manifest: Manifest; files: Map<string, Uint8Array> };

class Isolate {
  readonly rt = new SlotRuntime();
  readonly app: ReturnType<typeof createApp>;
  private readonly pending: Promise<unknown>[] = [];
  private readonly ctx = { waitUntil: (p: Promise<unknown>) => void this.pending.push(p), passThroughOnException() {}, props: {} };
  /** When this isolate last answered 404 for a version (its negative cache). */
  readonly missedAt = new Map<string, number>();

  constructor(readonly name: string, bundled: Version, store: ModelStore) {
    this.app = createApp({ models: [{ manifest: bundled.manifest, readFile: async (f) => bundled.files.get(f)! }], runtime: this.rt, store, syncSeconds: SYNC_SECONDS, adminToken: TOKEN });
  }

  /** One request, and the background work it handed to waitUntil (the sync's checks). */
  async fetch(path: string, init?: RequestInit) {
    const res = await this.app.request(path, init, {}, this.ctx as unknown as ExecutionContext);
    const bytes = new Uint8Array(await res.arrayBuffer());
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
    return { status: res.status, version: res.headers.get('X-Model-Version'), bytes, text: () => new TextDecoder().decode(bytes) };
  }

  admin(path: string, init: RequestInit = {}) {
    return this.fetch(`/v1/admin/models/m${path}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...init.headers } });
  }
}

async function walk(seed: number, steps: number) {
  const rng = new SeededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.nextFloat() * xs.length)]!;
  const bundled = await fakeVersion(base, 'm', 'bundled');
  const pool = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((s) => fakeVersion(base, 'm', `${seed}-${s}`)));
  const names = pool.map((v) => v.manifest.version);
  const store = new ModelStore(new MemoryBucket().asBucket());
  const A = new Isolate('A', bundled, store);
  const B = new Isolate('B', bundled, store);
  // The model: what is stored and deleted, the pointer, when it last moved; the bytes each pinned URL answered.
  const stored = new Set<string>();
  const deleted = new Set<string>();
  let active: string | null = null;
  let history: (string | null)[] = [];
  let movedAt = -Infinity;
  const bytesOf = new Map<string, string>();
  const serving = () => active ?? bundled.manifest.version;
  const trace: string[] = [];

  /** The same bytes for the same version and seed, whichever URL and isolate answered them. */
  async function sameBytes(version: string, seed: number, bytes: Uint8Array, what: string) {
    const digest = await sha256Hex(bytes);
    const key = `${version}|${seed}`;
    if (!bytesOf.has(key)) bytesOf.set(key, digest);
    expect(digest, `${what}: other bytes than before`).toBe(bytesOf.get(key));
  }

  /** The issue's own probe: POST generate with the same latents, at a pinned URL. */
  const latents = (seed: number) => [Array.from({ length: base.latent.size }, (_, i) => Math.sin(seed * 100 + i))];
  async function pinned(iso: Isolate, version: string, seed: number, generate = false) {
    const r = generate
      ? await iso.fetch(`/v1/models/m@${version}/generate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ latents: latents(seed), format: 'png' }) })
      : await iso.fetch(`/v1/models/m@${version}/sample.png?seed=${seed}`);
    const what = `${iso.name} m@${version} ${generate ? 'generate' : 'sample'} seed ${seed}`;
    if (r.status === 404) {
      const missed = iso.missedAt.get(version);
      const stillMissing = stored.has(version) && missed !== undefined && Date.now() - missed <= PINNED_MISS_TTL_MS;
      expect(version !== bundled.manifest.version && (!stored.has(version) || stillMissing), `${what}: 404 (${r.text()})`).toBe(true);
      if (!stillMissing) iso.missedAt.set(version, Date.now());
      return;
    }
    expect(r.status, `${what}: ${r.text()}`).toBe(200);
    expect(r.version).toBe(version);
    expect(version === bundled.manifest.version || stored.has(version) || deleted.has(version), `${what}: served a version never stored`).toBe(true);
    await sameBytes(version, generate ? -seed : seed, r.bytes, what);
  }

  async function unpinned(iso: Isolate, seed: number) {
    const r = await iso.fetch(`/v1/models/m/sample.png?seed=${seed}`);
    expect(r.status, r.text()).toBe(200);
    await sameBytes(r.version!, seed, r.bytes, `${iso.name} m seed ${seed}`);
    const due = iso === A || Date.now() - movedAt >= SYNC_SECONDS * 1000;
    if (!due) return;
    const again = iso === A ? r : await iso.fetch(`/v1/models/m/sample.png?seed=${seed}`);
    expect(again.version, `${iso.name} serves ${again.version}, the pointer says ${serving()} since ${Date.now() - movedAt} ms`).toBe(serving());
  }

  async function activate(version: string) {
    const r = await A.admin('/activate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ version }) });
    if (deleted.has(version) || !stored.has(version)) return expect(r.status, r.text()).toBe(404);
    expect(r.status, r.text()).toBe(200);
    if (active === version) return;
    history = [...history, active].slice(-20);
    active = version;
    movedAt = Date.now();
  }

  for (let step = 0; step < steps; step++) {
    const roll = rng.nextFloat();
    const v = pick(names);
    const seedOf = pick([1, 2, 3]);
    if (roll < 0.12) {
      trace.push(`upload ${v}`);
      const form = new FormData();
      const version = pool[names.indexOf(v)]!;
      form.set('manifest', JSON.stringify(version.manifest));
      for (const [f, bytes] of version.files) form.set(f, new Blob([bytes as Uint8Array<ArrayBuffer>]), f);
      const r = await A.admin(`/versions/${v}`, { method: 'PUT', body: form });
      expect(r.status, r.text()).toBe(deleted.has(v) ? 409 : stored.has(v) ? 200 : 201);
      if (r.status === 201) stored.add(v), A.missedAt.delete(v);
    } else if (roll < 0.27) {
      trace.push(`activate ${v}`);
      await activate(v);
    } else if (roll < 0.35) {
      trace.push('rollback');
      const r = await A.admin('/rollback', { method: 'POST' });
      expect(r.status, r.text()).toBe(history.length === 0 ? 409 : 200);
      if (history.length > 0) (active = history.at(-1)!), (history = history.slice(0, -1)), (movedAt = Date.now());
    } else if (roll < 0.41) {
      trace.push(`delete ${v}`);
      const r = await A.admin(`/versions/${v}`, { method: 'DELETE' });
      expect(r.status, r.text()).toBe(!stored.has(v) ? 404 : active === v ? 409 : 200);
      if (r.status === 200) stored.delete(v), deleted.add(v), (history = history.filter((h) => h !== v));
    } else if (roll < 0.53) {
      const ms = pick([300, 1000, 1500, PINNED_MISS_TTL_MS + 1, 61_000]);
      trace.push(`wait ${ms}`);
      vi.setSystemTime(Date.now() + ms);
    } else if (roll < 0.78) {
      const iso = pick([A, B]);
      const version = rng.nextFloat() < 0.15 ? bundled.manifest.version : v;
      const generate = rng.nextFloat() < 0.3;
      trace.push(`pinned ${iso.name} ${version} ${seedOf}${generate ? ' generate' : ''}`);
      await pinned(iso, version, seedOf, generate);
    } else if (roll < 0.94) {
      const iso = pick([A, B]);
      trace.push(`unpinned ${iso.name} ${seedOf}`);
      await unpinned(iso, seedOf);
    } else {
      // A pinned request racing an activation in the same isolate.
      const other = pick(names);
      trace.push(`race pinned ${other} / activate ${v}`);
      await Promise.all([pinned(A, other, seedOf), activate(v)]);
    }
    for (const iso of [A, B]) {
      expect(iso.rt.runsAfterRelease, `${iso.name}: a released session ran (seed ${seed}, step ${step}: ${trace.slice(-8).join('; ')})`).toBe(0);
      // bundled + live + warm + the pinned cache: more open sessions than that is a leak.
      expect(iso.rt.open(), `${iso.name}: sessions leak (step ${step})`).toBeLessThanOrEqual(3 + PINNED_MAX_VERSIONS);
    }
  }
  return { A, B, trace };
}

describe('the registry under random operations (model-based)', () => {
  beforeEach(() => {
    // Thousands of sync and load lines otherwise; a failure's message carries the trace that matters.
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`keeps its four invariants over 600 random steps (walk ${seed})`, async () => {
      const { A, B, trace } = await walk(seed, 600);
      // Every kind of step happened, and sessions were both opened and released.
      for (const kind of ['upload', 'activate', 'rollback', 'delete', 'wait 61000', 'pinned', 'unpinned', 'race']) expect(trace.some((t) => t.startsWith(kind))).toBe(true);
      expect(trace.some((t) => t.endsWith(' generate'))).toBe(true);
      expect(A.rt.released + B.rt.released).toBeGreaterThan(10);
    });
  }
});
