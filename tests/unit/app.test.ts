/**
 * createApp in Node with real onnxruntime-node: model isolation (a broken model is 503, the others keep serving)
 * and the listing. The full route contract is tested inside workerd (tests/worker).
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../edge/app.js';
import { ModelRegistry } from '../../edge/registry/registry.js';
import { encodePng } from '../../shared/png.js';
import type { InferenceRuntime } from '../../shared/runtime.js';
import type { ModelSource } from '../../edge/registry/source.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';

const good = loadModelDir('models/dcgan-fashion');
const manifest = good.manifest as { id: string };

/** The same model under another id, with one flipped byte in its graph. */
function corrupted(id: string): ModelSource {
  const m = structuredClone(good.manifest) as { id: string };
  m.id = id;
  return {
    manifest: m,
    async readFile(file) {
      const bytes = Uint8Array.from(await good.readFile(file));
      bytes[bytes.length - 1]! ^= 0xff;
      return bytes;
    },
  };
}

describe('createApp', () => {
  it('answers 503 for a model whose graph is corrupt, and keeps serving the others', async () => {
    const app = createApp({ models: [good, corrupted('broken')], runtime: ortNodeRuntime });
    const bad = await app.request('/v1/models/broken/sample.png?seed=1');
    expect(bad.status).toBe(503);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('model_unavailable');
    // The cause (a hash mismatch) is logged, not told: 503 bodies carry no hashes, keys or ORT internals.
    expect(body.error.message).toBe('model "broken" is unavailable; the operator\'s log says why');
    const ok = await app.request(`/v1/models/${manifest.id}/sample.png?seed=1`);
    expect(ok.status).toBe(200);
    // A broken model is not listed as available.
    const list = (await (await app.request('/v1/models')).json()) as { models: { id: string }[] };
    expect(list.models.map((m) => m.id)).toEqual([manifest.id]);
  });

  it('answers 503 for a model whose manifest is invalid', async () => {
    const app = createApp({ models: [{ manifest: { id: 'half', family: 'dcgan' }, readFile: good.readFile }], runtime: ortNodeRuntime });
    const res = await app.request('/v1/models/half/grid.png?seed=1');
    expect(res.status).toBe(503);
  });

  it('answers 503 when the runtime cannot open the graph, and creates each session only once', async () => {
    let calls = 0;
    const failing: InferenceRuntime = { name: 'failing', createSession: async () => (calls++, Promise.reject(new Error('no memory'))) };
    const app = createApp({ models: [good], runtime: failing });
    for (let i = 0; i < 3; i++) expect((await app.request(`/v1/models/${manifest.id}/sample.png?seed=${i}`)).status).toBe(503);
    expect(calls).toBe(1);
  });

  it('answers 503 when a graph file cannot be read, and logs why', async () => {
    const missing: ModelSource = { manifest: good.manifest, readFile: async () => Promise.reject(new Error('HTTP 404')) };
    const logged: string[] = [];
    const original = console.error;
    console.error = (m: string) => logged.push(m);
    const res = await Promise.resolve(createApp({ models: [missing], runtime: ortNodeRuntime }).request(`/v1/models/${manifest.id}/sample.png?seed=1`)).finally(() => (console.error = original));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).not.toMatch(/generator.onnx|404/);
    expect(logged.join('\n')).toMatch(/cannot read generator.onnx: HTTP 404/);
  });

  it('reuses one session across requests', async () => {
    let calls = 0;
    const counting: InferenceRuntime = { name: 'counting', createSession: (g) => (calls++, ortNodeRuntime.createSession(g)) };
    const app = createApp({ models: [good], runtime: counting });
    await Promise.all([1, 2, 3, 4].map((s) => app.request(`/v1/models/${manifest.id}/grid.png?seed=${s}&n=2`)));
    expect(calls).toBe(1);
  });
});

describe('MemoryCache (the isolate LRU in front of the Cache API)', () => {
  it('returns copies, evicts least recently used entries past its byte bound, and skips oversized bodies', async () => {
    const { MemoryCache, layeredCache } = await import('../../edge/http/response-cache.js');
    const cache = new MemoryCache(1000);
    const key = (k: string) => `https://c.test/${k}`;
    const body = (n: number, v: number) => new Response(new Uint8Array(n).fill(v), { headers: { ETag: `"${v}"` } });
    await cache.put(key('a'), body(240, 1));
    await cache.put(key('b'), body(240, 2));
    await cache.put(key('c'), body(240, 3));
    await cache.put(key('d'), body(240, 4));
    const a = await cache.match(key('a')); // a becomes the most recently used
    expect(new Uint8Array(await a!.arrayBuffer())[0]).toBe(1);
    expect(a!.headers.get('ETag')).toBe('"1"');
    await cache.put(key('e'), body(240, 5)); // over 1000 bytes: evicts b, the least recently used
    expect(await cache.match(key('b'))).toBeUndefined();
    expect(await cache.match(key('a'))).toBeDefined();
    expect(await cache.match(key('c'))).toBeDefined();
    expect(cache.size).toEqual({ entries: 4, bytes: 960 });
    await cache.put(key('big'), body(300, 6)); // more than a quarter of the bound: not kept
    expect(await cache.match(key('big'))).toBeUndefined();

    const second = new MemoryCache(10_000);
    await second.put(key('x'), body(10, 9));
    const layered = layeredCache(new MemoryCache(10_000), second);
    expect(new Uint8Array(await (await layered.match(key('x')))!.arrayBuffer())[0]).toBe(9);
    expect(await layered.match(key('y'))).toBeUndefined();

    // Requests the second layer is not used for: neither looked up there nor stored there.
    const { worthSharedCache } = await import('../../edge/http/response-cache.js');
    const local = layeredCache(new MemoryCache(10_000), second, worthSharedCache);
    const url = (path: string) => `https://c.test/r1/v1/v1/models/m/${path}`;
    await second.put(url('sample.png?seed=1'), body(10, 7));
    expect(await local.match(url('sample.png?seed=1'))).toBeUndefined();
    await local.put(url('sample.png?seed=2'), body(10, 8));
    expect(await second.match(url('sample.png?seed=2'))).toBeUndefined();
    expect(await local.match(url('sample.png?seed=2'))).toBeDefined();
    await local.put(url('grid.png?seed=2'), body(10, 8));
    expect(await second.match(url('grid.png?seed=2'))).toBeDefined();

    // A second layer that throws (the Cache API unavailable) is a miss on lookup and skipped on store.
    const broken = { match: () => Promise.reject(new Error('No Cache was configured')), put: () => Promise.reject(new Error('No Cache was configured')) };
    const degraded = layeredCache(new MemoryCache(10_000), broken);
    expect(await degraded.match(url('grid.png?seed=3'))).toBeUndefined();
    await degraded.put(url('grid.png?seed=3'), body(10, 5));
    expect(new Uint8Array(await (await degraded.match(url('grid.png?seed=3')))!.arrayBuffer())[0]).toBe(5);
  });
});

describe('load failures are not forever', () => {
  it('retries a failed session after 1 s, then 2 s, ...; serves once it opens; says Retry-After meanwhile', async () => {
    let now = 0;
    let failuresLeft = 2;
    const flaky: InferenceRuntime = { name: 'flaky', createSession: async (g) => (failuresLeft-- > 0 ? Promise.reject(new Error('transient')) : ortNodeRuntime.createSession(g)) };
    const registry = new ModelRegistry([good], flaky, () => now);
    const entry = await registry.resolve(manifest.id);
    await expect(registry.session(entry)).rejects.toMatchObject({ status: 503 });
    await expect(registry.session(entry)).rejects.toMatchObject({ status: 503, headers: { 'Retry-After': '1' } }); // backing off, not retried
    now = 1000;
    await expect(registry.session(entry)).rejects.toMatchObject({ status: 503 }); // second attempt fails
    now = 2500;
    await expect(registry.session(entry)).rejects.toMatchObject({ headers: { 'Retry-After': '1' } }); // next at 3000
    now = 3000;
    await expect(registry.session(entry)).resolves.toBeDefined();
    expect(failuresLeft).toBe(-1);
  });

  it("a VAE whose encoder will not open still draws samples; only encode is 503", async () => {
    const vae = loadModelDir('models/vae-fashion');
    const encoderBytes = await vae.readFile('encoder.onnx');
    const noEncoder: InferenceRuntime = { name: 'no-encoder', createSession: async (g) => (g.length === encoderBytes.length ? Promise.reject(new Error('encoder broken')) : ortNodeRuntime.createSession(g)) };
    const id = (vae.manifest as { id: string }).id;
    const app = createApp({ models: [vae], runtime: noEncoder });
    const body = encodePng({ width: 28, height: 28, channels: 1, data: new Uint8Array(784) });
    expect((await app.request(`/v1/models/${id}/encode`, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body })).status).toBe(503);
    expect((await app.request(`/v1/models/${id}/sample.png?seed=1`)).status).toBe(200);
    expect(((await (await app.request('/v1/models')).json()) as { models: { id: string }[] }).models.map((m) => m.id)).toContain(id);
  });
});
