/** The public API inside workerd, served by the real worker entry with onnxruntime-web and the bundled models. */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '../../shared/png.js';
import { RENDER_VERSION } from '../../edge/http/responses.js';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { validateManifest } from '../../shared/manifest.js';

const manifest = bundledManifests.map((b) => validateManifest(b.manifest)).find((m) => m.family === 'dcgan')!;
const base = `http://edge.test/v1/models/${manifest.id}`;
const get = (path: string, init?: RequestInit) => SELF.fetch(path.startsWith('http') ? path : `${base}${path}`, init);

async function png(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toBe('image/png');
  return new Uint8Array(await res.arrayBuffer());
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toMatch(/application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  return body;
}

describe('GET /v1/models', () => {
  it('lists the bundled models without internals', async () => {
    const res = await SELF.fetch('http://edge.test/v1/models');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { models: Record<string, unknown>[] };
    const m = body.models.find((x) => x['id'] === manifest.id)!;
    expect(m['family']).toBe(manifest.family);
    expect(m['latent']).toEqual(manifest.latent);
    expect(m['image']).toEqual(manifest.image);
    expect(m).not.toHaveProperty('graphs');
    expect(m['training']).not.toHaveProperty('config');
    // The model card: the numbers npm run eval measured, or null for a model not measured yet.
    expect(m['evaluation']).toEqual(manifest.evaluation ?? null);
    const vae = body.models.find((x) => x['family'] === 'vae')!;
    expect((vae['evaluation'] as { metrics: Record<string, number> }).metrics['iwaeBound']).toBeGreaterThan(0);
  });
});

describe('grid.png and sample.png', () => {
  it('serves a grid of the requested size as a valid PNG', async () => {
    const img = decodePng(await png(await get('/grid.png?seed=1&n=16')));
    expect(img.width).toBe(4 * manifest.image.width);
    expect(img.height).toBe(4 * manifest.image.height);
    expect(img.channels).toBe(manifest.image.channels);
    // A generator's images are not blank: pixel values spread over the range.
    const values = new Set(img.data);
    expect(values.size).toBeGreaterThan(32);
  });

  it('tiles n images into cols columns', async () => {
    const img = decodePng(await png(await get('/grid.png?seed=3&n=10&cols=5')));
    expect([img.width, img.height]).toEqual([5 * manifest.image.width, 2 * manifest.image.height]);
  });

  it('same seed gives the same bytes, another seed other bytes', async () => {
    const a = await png(await get('/grid.png?seed=42&n=8'));
    const b = await png(await get('/grid.png?seed=42&n=8'));
    const c = await png(await get('/grid.png?seed=43&n=8'));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('the first image of a grid is the sample of the same seed', async () => {
    const { width: w, height: h } = manifest.image;
    const grid = decodePng(await png(await get('/grid.png?seed=7&n=4&cols=4')));
    const one = decodePng(await png(await get('/sample.png?seed=7')));
    expect([one.width, one.height]).toEqual([w, h]);
    for (let y = 0; y < h; y++) expect(grid.data.subarray(y * 4 * w, y * 4 * w + w)).toEqual(one.data.subarray(y * w, (y + 1) * w));
  });

  it('seeded responses have a strong ETag bound to the version, live a minute unversioned, and revalidate with 304', async () => {
    const res = await get('/sample.png?seed=5');
    await png(res);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=60, stale-while-revalidate=600');
    expect(res.headers.get('ETag')).toContain(manifest.version);
    const etag = res.headers.get('ETag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(res.headers.get('X-Model-Version')).toBe(manifest.version);
    const again = await get('/sample.png?seed=5', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    const other = await get('/sample.png?seed=6');
    expect(other.headers.get('ETag')).not.toBe(etag);
    await other.arrayBuffer();
  });

  it('ETags name every parameter with one name on every route, so no two parameters can be confused', async () => {
    const cgan = bundledManifests.map((b) => validateManifest(b.manifest)).find((m) => m.classes.count > 0)!;
    const etag = async (path: string) => {
      const res = await SELF.fetch(`http://edge.test/v1/models/${cgan.id}${path}`);
      await png(res);
      return res.headers.get('ETag')!;
    };
    const v = cgan.version;
    expect(await etag('/sample.png?seed=5&class=2&scale=2')).toMatch(new RegExp(`-${v}-sample:seed=5:class=2:scale=2"$`));
    expect(await etag('/grid.png?seed=5&n=4&cols=2&class=3')).toMatch(new RegExp(`-${v}-grid:seed=5:n=4:cols=2:class=3"$`));
    expect(await etag('/interpolate.png?from=1&to=2&steps=3&class=1')).toMatch(new RegExp(`-${v}-interp:from=1:to=2:steps=3:class=1"$`));
    // A grid of 3 columns and a grid of class 3 were once both "c=3" in one route or another: now they cannot meet.
    expect(await etag('/grid.png?seed=5&n=3&cols=3')).not.toBe(await etag('/grid.png?seed=5&n=3&cols=1&class=3'));
    const latents = await SELF.fetch(`${base}/latents?seed=5&n=2`);
    expect(latents.headers.get('ETag')).toMatch(new RegExp(`-${manifest.version}-latents:seed=5:n=2"$`));
    await latents.arrayBuffer();
  });

  it('without a seed picks one, says which, and is not cached', async () => {
    const res = await get('/grid.png?n=4');
    const bytes = await png(res);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('ETag')).toBeNull();
    const seed = res.headers.get('X-Seed')!;
    expect(seed).toMatch(/^\d+$/);
    expect(await png(await get(`/grid.png?n=4&seed=${seed}`))).toEqual(bytes);
  });
});

describe('concurrency', () => {
  it('serves 16 concurrent requests on one session, each with its own bytes', async () => {
    const seeds = Array.from({ length: 16 }, (_, i) => 100 + i);
    const bodies = await Promise.all(seeds.map(async (s) => png(await get(`/grid.png?seed=${s}&n=4`))));
    const again = await png(await get('/grid.png?seed=107&n=4'));
    expect(bodies[7]).toEqual(again);
    expect(new Set(bodies.map((b) => b.join(','))).size).toBe(16);
  });
});

describe('bad input gets a JSON error, never a 500', () => {
  it.each([
    // Any 1..256-byte string is a seed (abc, -1, 1.5 and 4294967296 included: hashed); empty or longer is not.
    ['/grid.png?seed=', 400, 'invalid_parameter'],
    [`/grid.png?seed=${'s'.repeat(257)}`, 400, 'invalid_parameter'],
    ['/grid.png?seed=1&n=0', 400, 'invalid_parameter'],
    ['/grid.png?seed=1&n=65', 400, 'invalid_parameter'],
    ['/grid.png?seed=1&n=4&cols=5', 400, 'invalid_parameter'],
    ['/grid.png?seed=1&seed=2', 400, 'invalid_parameter'],
    ['/grid.png?seed=1&size=big', 400, 'unknown_parameter'],
    ['/sample.png?seed=1&n=2', 400, 'unknown_parameter'],
    ['http://edge.test/v1/models/no-such-model/grid.png?seed=1', 404, 'not_found'],
    ['http://edge.test/v1/nothing-here', 404, 'not_found'],
    ['http://edge.test/ort/nothing.mjs', 404, 'not_found'],
  ])('%s -> %i %s', async (path, status, code) => {
    await expectError(await get(path), status, code);
  });

  it('names what is allowed', async () => {
    const body = await expectError(await get('/grid.png?seed=1&n=100'), 400, 'invalid_parameter');
    expect(body.error.message).toContain('[1, 64]');
    const unknown = (await expectError(await get('/grid.png?colour=red'), 400, 'unknown_parameter')) as unknown as { error: { allowed: string[] } };
    expect(unknown.error.allowed).toEqual(['seed', 'n', 'cols', 'scale', 'class']);
  });
});

describe('rate limiting (the [[ratelimits]] binding, run by miniflare)', () => {
  it('answers 429 with Retry-After once a client passes its limit; other clients are unaffected', async () => {
    const as = (ip: string) => ({ headers: { 'CF-Connecting-IP': ip } });
    // The test config allows 20 requests per 10 s per client, in windows aligned to the clock (as miniflare
    // simulates it), so the run may straddle one window boundary: between 20 and 40 pass before the first 429.
    let passed = 0;
    while (passed <= 40 && (await get('http://edge.test/v1/models', as('203.0.113.7'))).status === 200) passed++;
    expect(passed).toBeGreaterThanOrEqual(20);
    expect(passed).toBeLessThanOrEqual(40);
    const res = await get('http://edge.test/v1/models', as('203.0.113.7'));
    const body = await expectError(res, 429, 'rate_limited');
    expect(res.headers.get('Retry-After')).toBe('10');
    expect(body.error.message).toContain('20 per 10 s');
    expect((await get('http://edge.test/v1/models', as('203.0.113.8'))).status).toBe(200);
  });

  it('keys IPv6 clients by their /64: another address in the same /64 is limited too, the next /64 is not', async () => {
    const as = (ip: string) => ({ headers: { 'CF-Connecting-IP': ip } });
    let passed = 0;
    while (passed <= 40 && (await get('http://edge.test/v1/models', as('2001:db8:7:1::1'))).status === 200) passed++;
    expect(passed).toBeLessThanOrEqual(40);
    await expectError(await get('http://edge.test/v1/models', as('2001:db8:7:1:ffff:ffff:ffff:9')), 429, 'rate_limited');
    expect((await get('http://edge.test/v1/models', as('2001:db8:7:2::1'))).status).toBe(200);
  });

  it('weighs a request by the images it draws: a 64-image grid costs 8 of the 20', async () => {
    const as = { headers: { 'CF-Connecting-IP': '198.51.100.77' } };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await get(`/grid.png?seed=${5000 + i}&n=64`, as);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    // 6 x 8 = 48 units: more than the 20-40 one client gets; the first two (16 units) always pass.
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
  });
});

describe('headers', () => {
  it('pages carry a Content-Security-Policy whose nonce their scripts bear; every response is nosniff and embeddable', async () => {
    const page = await get('http://edge.test/');
    const csp = page.headers.get('Content-Security-Policy')!;
    const nonce = /'nonce-([0-9a-f]{32})'/.exec(csp)![1];
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html.match(/<script/g)!.length).toBe(html.match(new RegExp(`<script nonce="${nonce}"`, 'g'))!.length);
    const other = await get('http://edge.test/');
    expect(other.headers.get('Content-Security-Policy')).not.toBe(csp); // a fresh nonce per response
    await other.arrayBuffer();
    const image = await get('/sample.png?seed=1');
    expect(image.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(image.headers.get('Cross-Origin-Resource-Policy')).toBe('cross-origin');
    await image.arrayBuffer();
  });
});

describe('response cache (Cache API, keyed by model version)', () => {
  it('answers a repeated seeded request from the cache with the same bytes and headers', async () => {
    const first = await get('/sample.png?seed=777123');
    expect(first.headers.get('Server-Timing')).toMatch(/^infer;dur=[\d.]+, png;dur=[\d.]+$/);
    const bytes = await png(first);
    const again = await get('/sample.png?seed=777123');
    expect(again.headers.get('Server-Timing')).toBe('cache;desc="hit"');
    expect(again.headers.get('ETag')).toBe(first.headers.get('ETag'));
    expect(again.headers.get('X-Model-Version')).toBe(manifest.version);
    expect(await png(again)).toEqual(bytes);
    const revalidated = await get('/sample.png?seed=777123', { headers: { 'If-None-Match': first.headers.get('ETag')! } });
    expect(revalidated.status).toBe(304);
  });

  it('serves a hit from the shared Cache API (immutable headers) when the isolate LRU does not hold it', async () => {
    // Stored by another isolate, as far as this one knows: put straight into caches.default under the key the
    // worker uses, with bytes the model would not produce.
    const path = '/grid.png?seed=991&n=4';
    const stored = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array([0, 85, 170, 255]) });
    const key = `https://response-cache.internal/r${RENDER_VERSION}/${manifest.version}/v1/models/${manifest.id}/grid.png?seed=991&n=4`;
    await (caches as unknown as { default: Cache }).default.put(key, new Response(stored, { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'public, max-age=31536000, immutable', ETag: '"shared"' } }));
    const res = await get(path, { headers: { Origin: 'https://site.example' } });
    expect(res.headers.get('Server-Timing')).toBe('cache;desc="hit"');
    expect(res.headers.get('ETag')).toBe('"shared"');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await png(res)).toEqual(stored);
  });

  it('never stores unseeded responses', async () => {
    const a = await get('/sample.png');
    const b = await get('/sample.png');
    expect(a.headers.get('Server-Timing')).toMatch(/^infer/);
    expect(b.headers.get('Server-Timing')).toMatch(/^infer/);
    expect(a.headers.get('X-Seed')).not.toBe(b.headers.get('X-Seed'));
  });
});

describe('GET /v1/models/{id}/graphs/{role}.onnx', () => {
  it('serves the graph the manifest names (sha256 checked), immutable at its pinned URL, with its hash as ETag', async () => {
    expect((await SELF.fetch(`http://edge.test/v1/models/${manifest.id}/graphs/generator.onnx`)).headers.get('Cache-Control')).toBe('public, max-age=60, stale-while-revalidate=600');
    const res = await SELF.fetch(`http://edge.test/v1/models/${manifest.id}@${manifest.version}/graphs/generator.onnx`);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
    expect(digest).toBe(manifest.graphs.generator!.sha256);
    expect(res.headers.get('ETag')).toBe(`"${digest}"`);
    expect(res.headers.get('Cache-Control')).toContain('immutable');
    expect((await get('/graphs/generator.onnx', { headers: { 'If-None-Match': `"${digest}"` } })).status).toBe(304);
    const missing = await expectError(await get('/graphs/encoder.onnx'), 404, 'not_found');
    expect((missing as unknown as { error: { allowed: string[] } }).error.allowed).toEqual(['generator.onnx']);
  });
});
