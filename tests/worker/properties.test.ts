/**
 * Property-based tests (fast-check) over every public route inside workerd: whatever the query, path or body,
 * the answer is never a 5xx; an error is JSON with a code and a message saying what was wrong; a success has
 * the content type the route promises. The handler is called directly (worker-fetch.ts): 540 requests through
 * SELF.fetch would each be slower than the one before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { validateManifest } from '../../shared/manifest.js';
import { encodePng } from '../../shared/png.js';
import { workerFetch } from './worker-fetch.js';

const manifests = bundledManifests.map((b) => validateManifest(b.manifest));
const RUNS = 60;

async function check(res: Response, what: string): Promise<void> {
  const body = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(body.subarray(0, 300));
  expect(res.status, `${what} -> ${res.status} ${text}`).toBeLessThan(500);
  if (res.status >= 400) {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { error: { code: string; message: string } };
    expect(parsed.error.code, what).toMatch(/^[a-z_]+$/);
    expect(parsed.error.message.length, what).toBeGreaterThan(5);
  } else if (res.status === 200) {
    expect(res.headers.get('Content-Type'), what).toMatch(/^(image\/png|application\/json)/);
  }
}

const id = fc.oneof(fc.constantFrom(...manifests.map((m) => m.id)), fc.string({ maxLength: 20 }).map(encodeURIComponent));
const numberish = fc.oneof(
  fc.integer({ min: -5, max: 70 }).map(String),
  fc.constantFrom('', '0', '4294967295', '4294967296', '1e3', '1.5', 'NaN', '-0', ' 1', '0x10', '9'.repeat(30)),
  fc.string({ maxLength: 8 }),
);
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('seed', 'n', 'cols', 'class', 'from', 'to', 'steps'), fc.string({ maxLength: 6 })), numberish), { maxLength: 4 })
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));

describe('property: GET routes never fail with a 5xx', () => {
  it.each(['sample.png', 'grid.png', 'interpolate.png', 'latents', ''])('GET /v1/models/{id}/%s?{random query}', async (route) => {
    await fc.assert(
      fc.asyncProperty(id, query, async (model, q) => {
        const target = `http://edge.test/v1/models/${model}${route ? `/${route}` : ''}${q ? `?${q}` : ''}`;
        await check(await workerFetch(target), `GET ${target}`);
      }),
      { numRuns: RUNS, seed: 7 },
    );
  });
});

describe('property: POST bodies never fail with a 5xx', () => {
  const latentRow = fc.array(fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constantFrom(1e6, -1e300), fc.string({ maxLength: 3 }), fc.constant(null)), { maxLength: 110 });
  const generateBody = fc.oneof(
    fc.record({ latents: fc.array(latentRow, { maxLength: 70 }), classes: fc.option(fc.array(fc.integer({ min: -2, max: 12 }), { maxLength: 70 })), format: fc.option(fc.constantFrom('png', 'json', 'gif')), cols: fc.option(fc.integer({ min: -1, max: 70 })) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
    fc.json(),
    fc.string({ maxLength: 50 }),
  );
  const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'image/png', '');

  it('POST /v1/models/{id}/generate', async () => {
    await fc.assert(
      fc.asyncProperty(id, generateBody, contentType, async (model, body, type) => {
        const target = `http://edge.test/v1/models/${model}/generate`;
        await check(await workerFetch(target, { method: 'POST', headers: type ? { 'Content-Type': type } : {}, body }), `POST ${target} ${type} ${body.slice(0, 80)}`);
      }),
      { numRuns: RUNS, seed: 8 },
    );
  });

  // PNGs of random sizes and channel counts (the right size sometimes), and random bytes.
  const png = fc.oneof(
    fc.record({ width: fc.integer({ min: 1, max: 40 }), height: fc.integer({ min: 1, max: 40 }), channels: fc.constantFrom(1 as const, 3 as const, 4 as const), seed: fc.integer() }).map(({ width, height, channels, seed }) => {
      const data = new Uint8Array(width * height * channels).map((_, i) => (i * 31 + seed) & 255);
      return encodePng({ width, height, channels, data });
    }),
    fc.constantFrom(28).map((s) => encodePng({ width: s, height: s, channels: 1, data: new Uint8Array(s * s).fill(128) })),
    fc.uint8Array({ maxLength: 200 }),
  );

  it.each(['encode', 'reconstruct'])('POST /v1/models/{id}/%s', async (route) => {
    await fc.assert(
      fc.asyncProperty(id, png, contentType, async (model, bytes, type) => {
        const target = `http://edge.test/v1/models/${model}/${route}`;
        await check(await workerFetch(target, { method: 'POST', headers: type ? { 'Content-Type': type } : {}, body: bytes as Uint8Array<ArrayBuffer> }), `POST ${target} ${type} (${bytes.length} bytes)`);
      }),
      { numRuns: RUNS, seed: 9 },
    );
  });

  it('any method on any path', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), fc.webPath(), async (method, path) => {
        const res = await workerFetch(`http://edge.test${path.startsWith('/') ? path : `/${path}`}`, { method });
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
        await res.arrayBuffer();
      }),
      { numRuns: RUNS, seed: 10 },
    );
  });
});
