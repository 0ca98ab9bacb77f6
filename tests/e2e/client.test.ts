/** The typed client against the real app (createApp with the bundled models, onnxruntime-node) through its fetch hook. */
import { describe, expect, it } from 'vitest';
import { EdgeApiError, EdgeClient } from '../../client/index.js';
import { createApp } from '../../edge/app.js';
import { decodePng, encodePng } from '../../shared/png.js';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';

const app = createApp({ models: bundledManifests.map((b) => loadModelDir(`models/${b.dir}`)), runtime: ortNodeRuntime });
const client = new EdgeClient({ baseUrl: 'http://edge.test/', fetch: async (input, init) => app.request(input, init) });

describe('EdgeClient', () => {
  it('lists models with their cards and builds immutable image URLs', async () => {
    const models = await client.listModels();
    expect(models.map((m) => m.id).sort()).toEqual(bundledManifests.map((b) => b.dir).sort());
    const vae = models.find((m) => m.family === 'vae')!;
    expect(vae.canEncode).toBe(true);
    expect(vae.evaluation?.metrics['iwaeBound']).toBeGreaterThan(0);
    expect((await client.model(vae.id)).version).toBe(vae.version);
    const dcgan = await client.model('dcgan-fashion');
    expect(await client.sampleUrl('dcgan-fashion', { seed: 5 })).toBe(`http://edge.test/v1/models/dcgan-fashion@${dcgan.version}/sample.png?seed=5`);
    expect(client.url('dcgan-fashion', 'sample.png', { seed: 5 })).toBe('http://edge.test/v1/models/dcgan-fashion/sample.png?seed=5');
    // A relative base (a page on the worker's own origin) gives a path, as an <img src> takes it.
    expect(new EdgeClient({ baseUrl: '' }).url('dcgan-fashion', 'sample.png', { seed: 5 }, 'abc123def456')).toBe('/v1/models/dcgan-fashion@abc123def456/sample.png?seed=5');
    expect(new EdgeClient({ baseUrl: '/edge/' }).url('dcgan-fashion', 'grid.png', { seed: 1, n: 4 })).toBe('/edge/v1/models/dcgan-fashion/grid.png?seed=1&n=4');
  });

  it('fetches the same images as the URLs, with seed and version', async () => {
    const a = await client.sample('dcgan-fashion', { seed: 5 });
    const direct = new Uint8Array(await (await app.request(await client.sampleUrl('dcgan-fashion', { seed: 5 }))).arrayBuffer());
    expect(a.png).toEqual(direct);
    expect(a.seed).toBe(5);
    expect(a.version).toMatch(/^[0-9a-f]{12}$/);
    const unseeded = await client.sample('dcgan-fashion');
    expect(Number.isInteger(unseeded.seed)).toBe(true);
    const grid = decodePng((await client.grid('cgan-fashion', { seed: 1, n: 10, cols: 10 })).png);
    expect([grid.width, grid.height]).toEqual([280, 28]);
    expect(decodePng((await client.interpolate('vae-fashion', { from: 1, to: 2, steps: 4 })).png).width).toBe(112);
  });

  it('generates from latents (PNG and raw pixels) and encodes with a VAE', async () => {
    const { latents } = await client.latents('dcgan-fashion', { seed: 9, n: 2 });
    expect(latents).toHaveLength(2);
    const [img] = await client.generateImages('dcgan-fashion', { latents: [latents[0]!] });
    const sample = decodePng((await client.sample('dcgan-fashion', { seed: 9 })).png);
    expect(img!.data).toEqual(sample.data);
    const both = decodePng((await client.generate('dcgan-fashion', { latents, cols: 2 })).png);
    expect(both.width).toBe(56);
    const png = encodePng({ width: 28, height: 28, channels: 1, data: new Uint8Array(784).fill(200) });
    const post = await client.encode('vae-fashion', png);
    expect(post.mean).toHaveLength(16);
    expect(decodePng((await client.reconstruct('vae-fashion', png)).png).width).toBe(28);
  });

  it('exposes every public route typed from the server (Hono hc): URLs, queries and JSON answers', async () => {
    const routes = client.api.v1.models[':id'];
    expect(routes['grid.png'].$url({ param: { id: 'dcgan-fashion' }, query: { seed: '1', n: '4' } }).href).toBe('http://edge.test/v1/models/dcgan-fashion/grid.png?seed=1&n=4');
    const res = await routes.latents.$get({ param: { id: 'dcgan-fashion' }, query: { seed: '3', n: '2' } });
    expect(res.status).toBe(200);
    // Narrowed by status, the body is the route's LatentsResponse (a type error here if the schema changes).
    if (res.status === 200) expect((await res.json()).latents).toHaveLength(2);
    // tsc fails on these lines if the client stops knowing the routes (they would no longer be errors).
    // hc builds any path at run time: only the types know the routes.
    // @ts-expect-error: no such route
    expect(routes['nope.png'].$url({ param: { id: 'x' } }).pathname).toBe('/v1/models/x/nope.png');
    // @ts-expect-error: grid.png has no query parameter "colour"
    routes['grid.png'].$url({ param: { id: 'x' }, query: { colour: 'red' } });
  });

  it('turns API errors into EdgeApiError with the code, and network failures into code "network"', async () => {
    const err = await client.grid('dcgan-fashion', { seed: 1, n: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeApiError);
    expect((err as EdgeApiError).status).toBe(400);
    expect((err as EdgeApiError).code).toBe('invalid_parameter');
    expect((err as EdgeApiError).allowed).toEqual({ min: 1, max: 64 });
    const missing = await client.model('nope').catch((e: unknown) => e);
    expect((missing as EdgeApiError).code).toBe('not_found');
    const offline = new EdgeClient({ baseUrl: 'http://edge.test', fetch: () => Promise.reject(new TypeError('fetch failed')) });
    const net = await offline.listModels().catch((e: unknown) => e);
    expect((net as EdgeApiError).code).toBe('network');
    expect((net as EdgeApiError).status).toBe(0);
  });
});
