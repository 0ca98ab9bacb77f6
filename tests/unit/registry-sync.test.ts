/**
 * The registry's sync in Node, on miniflare's R2 (the same implementation wrangler dev uses) and onnxruntime-node:
 * the bundled models are the fallback while R2 is unreachable; a newly activated version is picked up only once
 * the interval has passed (injected clock), after it has been loaded; a pointer to a broken version leaves the old
 * one serving. And the admin API is absent without its token or bucket.
 */
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../edge/app.js';
import { ModelRegistry } from '../../edge/registry/registry.js';
import { ModelStore, type ModelBucket } from '../../edge/registry/store.js';
import { ModelSync } from '../../edge/registry/sync.js';
import { sha256Hex } from '../../shared/hash.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';

const dcgan = loadModelDir('models/dcgan-fashion');
const gan = loadModelDir('models/gan-fashion');
const dcganManifest = validateManifest(dcgan.manifest);

let mf: Miniflare;
let bucket: ModelBucket;

beforeAll(async () => {
  mf = new Miniflare(convertV4MiniflareOptions({ modules: true, script: 'export default { fetch() { return new Response(null) } }', r2Buckets: ['MODELS'] }));
  bucket = (await mf.getR2Bucket('MODELS')) as unknown as ModelBucket;
});
afterAll(() => mf?.dispose());

/** Stores `src` as version `version` of model `id` directly (as the admin API would after its checks) and activates it. */
async function storeAndActivate(store: ModelStore, src: typeof dcgan, id: string, version: string, corrupt = false) {
  const manifest = structuredClone(validateManifest(src.manifest)) as Manifest;
  manifest.id = id;
  manifest.version = version;
  const file = manifest.graphs.generator!.file;
  const graph = Uint8Array.from(await src.readFile(file));
  if (corrupt) {
    graph.fill(3, 0, 64);
    manifest.graphs.generator!.sha256 = await sha256Hex(graph);
  }
  await store.putVersion(manifest, new Map([[file, graph]]));
  const { pointer, etag } = await store.pointer(id);
  expect(await store.swapPointer(id, { ...pointer, active: version, history: [...pointer.history, pointer.active], updatedAt: new Date().toISOString() }, etag)).toBe(true);
}

/** A bucket that fails every call while `down` is true. */
function flaky(inner: ModelBucket) {
  const state = { down: true, calls: 0 };
  const wrap = <K extends keyof ModelBucket>(k: K) => ((...args: unknown[]) => {
    state.calls++;
    if (state.down) return Promise.reject(new Error('R2 unreachable'));
    return (inner[k] as (...a: unknown[]) => unknown)(...args);
  }) as ModelBucket[K];
  const b = { get: wrap('get'), put: wrap('put'), head: wrap('head'), delete: wrap('delete'), list: wrap('list') } as ModelBucket;
  return { bucket: b, state };
}

describe('model sync', () => {
  it('serves the bundled model while R2 is unreachable, and the registry version once it answers again', async () => {
    const store = new ModelStore(bucket);
    await storeAndActivate(store, gan, dcganManifest.id, 'from-r2');
    const { bucket: b, state } = flaky(bucket);
    let now = 0;
    const registry = new ModelRegistry([dcgan], ortNodeRuntime);
    const sync = new ModelSync(registry, new ModelStore(b), { intervalMs: 30_000, now: () => now });
    await sync.beforeRequest();
    expect(registry.versionOf(dcganManifest.id)).toBe(dcganManifest.version);
    state.down = false;
    now = 29_999;
    await sync.beforeRequest();
    expect(registry.versionOf(dcganManifest.id)).toBe(dcganManifest.version); // not due yet: no R2 call
    now = 30_000;
    const pending: Promise<unknown>[] = [];
    await sync.beforeRequest((p) => pending.push(p));
    expect(registry.versionOf(dcganManifest.id)).toBe(dcganManifest.version); // requests do not wait for the load
    await Promise.all(pending);
    expect(registry.versionOf(dcganManifest.id)).toBe('from-r2');
    await bucket.delete(ModelStore.pointerKey(dcganManifest.id));
  });

  it('keeps serving the old version when the pointer names a version that cannot load', async () => {
    const store = new ModelStore(bucket);
    const id = 'sync-broken';
    await storeAndActivate(store, dcgan, id, 'good');
    let now = 0;
    const registry = new ModelRegistry([], ortNodeRuntime);
    const sync = new ModelSync(registry, store, { intervalMs: 1000, now: () => now });
    await sync.beforeRequest();
    expect(registry.versionOf(id)).toBe('good');
    await storeAndActivate(store, dcgan, id, 'broken', true);
    now = 1000;
    await sync.checkNow();
    expect(registry.versionOf(id)).toBe('good');
    // Fixed by activating a good version: picked up at the next check.
    await storeAndActivate(store, gan, id, 'fixed');
    now = 2000;
    await sync.checkNow();
    expect(registry.versionOf(id)).toBe('fixed');
  });

  it('refuses intervals that are not numbers, which would leave the first request waiting on no check', () => {
    const registry = new ModelRegistry([], ortNodeRuntime);
    expect(() => new ModelSync(registry, new ModelStore(bucket), { intervalMs: NaN })).toThrow(/numbers >= 0/);
    expect(() => new ModelSync(registry, new ModelStore(bucket), { firstWaitMs: -1 })).toThrow(/numbers >= 0/);
  });

  it('serves a registry version through createApp with X-Model-Version, and the bundled one after the pointer is cleared', async () => {
    const store = new ModelStore(bucket);
    const app = createApp({ models: [dcgan], runtime: ortNodeRuntime, store, syncSeconds: 0 });
    await storeAndActivate(store, gan, dcganManifest.id, 'override');
    const res = await app.request(`/v1/models/${dcganManifest.id}/sample.png?seed=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Model-Version')).toBe('override');
    await bucket.delete(ModelStore.pointerKey(dcganManifest.id));
    // A request starts the check without waiting for it; a later request sees its result.
    let version: string | null = null;
    for (let i = 0; i < 100 && version !== dcganManifest.version; i++) {
      await new Promise((r) => setTimeout(r, 20));
      version = (await app.request(`/v1/models/${dcganManifest.id}/sample.png?seed=1`)).headers.get('X-Model-Version');
    }
    expect(version).toBe(dcganManifest.version);
  });
});

describe('a fresh isolate', () => {
  it('holds its first concurrent requests until the first check, so none is served by an overridden bundled model', async () => {
    const store = new ModelStore(bucket);
    await storeAndActivate(store, gan, dcganManifest.id, 'fresh-override');
    try {
      const app = createApp({ models: [dcgan], runtime: ortNodeRuntime, store });
      const responses = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => app.request(`/v1/models/${dcganManifest.id}/sample.png?seed=${seed}`)));
      expect(responses.map((r) => r.headers.get('X-Model-Version'))).toEqual(Array(6).fill('fresh-override'));
    } finally {
      await bucket.delete(ModelStore.pointerKey(dcganManifest.id));
    }
  });
});

describe('admin API availability', () => {
  it('is a 404 saying what it needs without the token, or without the bucket', async () => {
    for (const app of [createApp({ models: [dcgan], runtime: ortNodeRuntime, store: new ModelStore(bucket) }), createApp({ models: [dcgan], runtime: ortNodeRuntime, adminToken: 'x' })]) {
      const res = await app.request('/v1/admin/models', { headers: { Authorization: 'Bearer x' } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/ADMIN_TOKEN/);
    }
  });
});

describe('pinned versions', () => {
  it('loads versions on demand into an LRU of 4; an evicted one no request uses is released at once and loads again when asked', async () => {
    let loads = 0;
    let released = 0;
    const counting: typeof ortNodeRuntime = {
      name: 'counting',
      async createSession(graph) {
        const s = await ortNodeRuntime.createSession(graph);
        return { ...s, run: s.run.bind(s), release: async () => (released++, s.release?.()) };
      },
    };
    const registry = new ModelRegistry([dcgan], counting);
    registry.loadVersion = async (id, version) => {
      loads++;
      if (!/^v\d+$/.test(version)) return null;
      const manifest = { ...structuredClone(dcganManifest), id, version };
      return { manifest, readFile: dcgan.readFile };
    };
    for (let v = 1; v <= 6; v++) {
      const entry = await registry.resolve(`${dcganManifest.id}@v${v}`);
      expect(entry.manifest.version).toBe(`v${v}`);
    }
    expect(loads).toBe(6);
    expect(registry.pinnedVersions()).toEqual([3, 4, 5, 6].map((v) => `${dcganManifest.id}@v${v}`));
    await new Promise((r) => setTimeout(r, 10));
    expect(released).toBe(2); // v1 and v2: nothing else held them, no request was in flight
    await registry.resolve(`${dcganManifest.id}@v1`);
    expect(loads).toBe(7);
    await expect(registry.resolve(`${dcganManifest.id}@nope`)).rejects.toMatchObject({ status: 404 });
    await expect(registry.resolve(`${dcganManifest.id}@nope`)).rejects.toMatchObject({ status: 404 });
    expect(loads).toBe(8); // an unknown version asks the store once, then is remembered for a while
  });
});

describe('the first check (issue 26, fix 5)', () => {
  it('is handed to waitUntil; one that never settles (its I/O cancelled) neither stalls later requests nor stops the sync', async () => {
    const store = new ModelStore(bucket);
    const id = 'sync-stuck';
    await storeAndActivate(store, dcgan, id, 'after');
    // While `hang`, listing never answers: what a check sees when workerd cancels the I/O of the request that started it.
    let hang = true;
    const stuck: ModelBucket = { ...bucket, get: bucket.get.bind(bucket), put: bucket.put.bind(bucket), head: bucket.head.bind(bucket), delete: bucket.delete.bind(bucket), list: (o) => (hang ? new Promise(() => {}) : bucket.list(o)) };
    let now = 0;
    const registry = new ModelRegistry([], ortNodeRuntime);
    const sync = new ModelSync(registry, new ModelStore(stuck), { intervalMs: 1000, firstWaitMs: 300, now: () => now });
    const kept: Promise<unknown>[] = [];
    const t0 = performance.now();
    await sync.beforeRequest((p) => kept.push(p));
    expect(kept).toHaveLength(1); // kept alive beyond the first request
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    const t1 = performance.now();
    await sync.beforeRequest();
    expect(performance.now() - t1).toBeLessThan(150); // no second wait for a check that will not end
    hang = false;
    now = 60_000; // the stuck check is abandoned after max(60 s, 2 intervals)
    const pending: Promise<unknown>[] = [];
    await sync.beforeRequest((p) => pending.push(p));
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    expect(registry.versionOf(id)).toBe('after');
  });
});
