/**
 * Every family's routes inside workerd: conditional sampling, interpolation, latents, generation from latents,
 * VAE encode/reconstruct, and a fuzz of malformed requests that must never produce a 5xx.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { decodePng, encodePng } from '../../shared/png.js';
import { SeededRandom } from '../../shared/rng.js';
import { workerFetch } from './worker-fetch.js';

const manifests = bundledManifests.map((b) => validateManifest(b.manifest));
const byFamily = (f: Manifest['family']) => manifests.find((m) => m.family === f)!;
const url = (m: Manifest, rest: string) => `http://edge.test/v1/models/${m.id}/${rest}`;
const get = (m: Manifest, rest: string) => SELF.fetch(url(m, rest));
const postJson = (m: Manifest, rest: string, body: unknown) => SELF.fetch(url(m, rest), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const postPng = (m: Manifest, rest: string, body: Uint8Array<ArrayBuffer>, type = 'image/png') => SELF.fetch(url(m, rest), { method: 'POST', headers: { 'Content-Type': type }, body });

async function image(res: Response) {
  expect(res.status, await res.clone().text().catch(() => '')).toBe(200);
  expect(res.headers.get('Content-Type')).toBe('image/png');
  return decodePng(new Uint8Array(await res.arrayBuffer()));
}
async function error(res: Response, status: number) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.message).toBeTruthy();
  return body.error;
}

describe('every family serves images', () => {
  it.each(['vae', 'gan', 'dcgan', 'cgan'] as const)('%s: grid.png', async (family) => {
    const m = byFamily(family);
    const img = await image(await get(m, 'grid.png?seed=1&n=6&cols=3'));
    expect([img.width, img.height]).toEqual([3 * m.image.width, 2 * m.image.height]);
  });
});

describe('conditional models', () => {
  const m = byFamily('cgan');

  it('require a class for sample.png and reject one out of range', async () => {
    expect((await error(await get(m, 'sample.png?seed=1'), 400)).message).toMatch(/"class" is required/);
    expect((await error(await get(m, `sample.png?seed=1&class=${m.classes.count}`), 400)).message).toMatch(/\[0, 9\]/);
    await image(await get(m, 'sample.png?seed=1&class=3'));
  });

  it('give different images for different classes from the same seed', async () => {
    const a = await image(await get(m, 'sample.png?seed=1&class=1'));
    const b = await image(await get(m, 'sample.png?seed=1&class=7'));
    expect(b.data).not.toEqual(a.data);
  });

  it('tile all classes in a grid without a class: image i has class i mod k', async () => {
    const grid = await image(await get(m, 'grid.png?seed=4&n=10&cols=10'));
    const w = m.image.width;
    const h = m.image.height;
    const cell = (img: { data: Uint8Array; width: number }, col: number) => Array.from({ length: h }, (_, y) => Array.from(img.data.subarray(y * img.width + col * w, y * img.width + col * w + w)));
    const one = await image(await get(m, 'grid.png?seed=4&n=10&cols=10&class=3'));
    expect(cell(grid, 3)).toEqual(cell(one, 3));
  });

  it('unconditional models reject a class', async () => {
    expect((await error(await get(byFamily('dcgan'), 'sample.png?seed=1&class=1'), 400)).message).toMatch(/is unconditional: "class" is not accepted/);
    expect((await error(await get(byFamily('vae'), 'grid.png?seed=1&class=0'), 400)).message).toMatch(/is unconditional/);
  });
});

describe('interpolate.png', () => {
  it('goes from the sample of one seed to the sample of the other', async () => {
    const m = byFamily('dcgan');
    const { width: w, height: h } = m.image;
    const strip = await image(await get(m, 'interpolate.png?from=3&to=9&steps=5'));
    expect([strip.width, strip.height]).toEqual([5 * w, h]);
    const first = await image(await get(m, 'sample.png?seed=3'));
    const last = await image(await get(m, 'sample.png?seed=9'));
    const cell = (k: number) => Array.from({ length: h }, (_, y) => Array.from(strip.data.subarray(y * 5 * w + k * w, y * 5 * w + k * w + w))).flat();
    const close = (a: number[], b: Uint8Array) => a.every((v, i) => Math.abs(v - b[i]!) <= 1);
    expect(close(cell(0), first.data)).toBe(true);
    expect(close(cell(4), last.data)).toBe(true);
  });

  it('validates its parameters', async () => {
    const m = byFamily('vae');
    await error(await get(m, 'interpolate.png?from=1'), 400);
    await error(await get(m, 'interpolate.png?from=1&to=2&steps=1'), 400);
    await error(await get(m, 'interpolate.png?from=1&to=2&steps=65'), 400);
    await image(await get(byFamily('cgan'), 'interpolate.png?from=1&to=2&steps=3&class=2'));
  });
});

describe('latents and generate', () => {
  const m = byFamily('dcgan');

  it('generate(latents of seed S) equals grid.png?seed=S, as PNG and as JSON', async () => {
    const res = await get(m, 'latents?seed=12&n=4');
    expect(res.headers.get('Cache-Control')).toContain('max-age=60');
    const { latents, size } = (await res.json()) as { latents: number[][]; size: number };
    expect(latents.length).toBe(4);
    expect(latents[0]!.length).toBe(size);
    const viaGenerate = await image(await postJson(m, 'generate', { latents, cols: 2 }));
    const viaGrid = await image(await get(m, 'grid.png?seed=12&n=4&cols=2'));
    expect(viaGenerate.data).toEqual(viaGrid.data);
    const json = (await (await postJson(m, 'generate', { latents: latents.slice(0, 1), format: 'json' })).json()) as { images: { width: number; data: string }[] };
    const bytes = Uint8Array.from(atob(json.images[0]!.data), (ch) => ch.charCodeAt(0));
    const one = await image(await get(m, 'sample.png?seed=12'));
    expect(bytes).toEqual(one.data);
  });

  it('does latent arithmetic: the mean of two latents is a valid input', async () => {
    const { latents } = (await (await get(m, 'latents?seed=1&n=2')).json()) as { latents: number[][] };
    const mid = latents[0]!.map((v, i) => (v + latents[1]![i]!) / 2);
    await image(await postJson(m, 'generate', { latents: [mid] }));
  });

  it.each([
    [{}, /"latents" must be an array/],
    [{ latents: [] }, /1 to 64/],
    [{ latents: [[1, 2]] }, /100 numbers/],
    [{ latents: [new Array(100).fill(0).map((_, i) => (i === 5 ? 'x' : 0))] }, /latents\[0\]\[5\]/],
    [{ latents: [new Array(100).fill(0).map((_, i) => (i === 5 ? -2000 : 0))] }, /"latents\[0\]\[5\]" must be a finite number in \[-1000, 1000\]/],
    [{ latents: new Array(65).fill(new Array(100).fill(0)) }, /1 to 64/],
    [{ latents: [new Array(100).fill(0)], classes: [1] }, /unconditional/],
    [{ latents: [new Array(100).fill(0)], format: 'gif' }, /"format"/],
    [{ latents: [new Array(100).fill(0)], extra: 1 }, /unknown field "extra"/],
  ])('rejects %j', async (body, message) => {
    expect((await error(await postJson(m, 'generate', body), 400)).message).toMatch(message);
  });

  it('rejects non-finite numbers, wrong content types, broken JSON and oversized bodies', async () => {
    const raw = (body: string, type = 'application/json') => SELF.fetch(url(m, 'generate'), { method: 'POST', headers: { 'Content-Type': type }, body });
    await error(await raw(`{"latents":[[${new Array(99).fill(0).join(',')},1e999]]}`), 400);
    expect((await error(await raw('{}', 'text/plain'), 415)).code).toBe('unsupported_media_type');
    expect((await error(await raw('{"latents":'), 400)).code).toBe('invalid_body');
    expect((await error(await raw(`{"pad":"${'x'.repeat(1_100_000)}"}`), 413)).code).toBe('payload_too_large');
  });

  it('requires classes for a conditional model', async () => {
    const c = byFamily('cgan');
    const z = new Array(c.latent.size).fill(0);
    expect((await error(await postJson(c, 'generate', { latents: [z] }), 400)).message).toMatch(/"classes" is required/);
    await error(await postJson(c, 'generate', { latents: [z], classes: [10] }), 400);
    await image(await postJson(c, 'generate', { latents: [z, z], classes: [0, 9] }));
  });
});

describe('VAE encode and reconstruct', () => {
  const m = byFamily('vae');
  const { width, height } = m.image;
  const shirt = encodePng({ width, height, channels: 1, data: Uint8Array.from({ length: width * height }, (_, i) => (i % width > 6 && i % width < 21 && i > 4 * width ? 200 : 0)) });

  it('encodes a PNG to the posterior mean and log-variance', async () => {
    const res = await postPng(m, 'encode', shirt);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { mean: number[]; logvar: number[] };
    expect(body.mean.length).toBe(m.latent.size);
    expect(body.logvar.length).toBe(m.latent.size);
    expect(body.mean.every(Number.isFinite) && body.logvar.every(Number.isFinite)).toBe(true);
  });

  it('reconstruct equals generate from the encoded mean', async () => {
    const { mean } = (await (await postPng(m, 'encode', shirt)).json()) as { mean: number[] };
    const recon = await image(await postPng(m, 'reconstruct', shirt));
    const viaMean = await image(await postJson(m, 'generate', { latents: [mean] }));
    expect(recon.data.every((v, i) => Math.abs(v - viaMean.data[i]!) <= 1)).toBe(true);
  });

  it('accepts RGB by converting to gray, any size by resizing, and rejects non-images, other types and non-VAE models', async () => {
    const rgb = encodePng({ width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(100) });
    expect((await postPng(m, 'encode', rgb)).status).toBe(200);
    const small = encodePng({ width: 10, height: 10, channels: 1, data: new Uint8Array(100) });
    expect((await postPng(m, 'encode', small)).status).toBe(200);
    expect((await error(await postPng(m, 'encode', new TextEncoder().encode('not a png') as Uint8Array<ArrayBuffer>), 400)).message).toMatch(/not a PNG/);
    expect((await error(await postPng(m, 'encode', shirt, 'image/jpeg'), 400)).message).toMatch(/not a JPEG/);
    expect((await error(await postPng(m, 'encode', shirt, 'image/gif'), 415)).code).toBe('unsupported_media_type');
    expect((await error(await postPng(byFamily('dcgan'), 'encode', shirt), 400)).code).toBe('not_supported');
  });
});

describe('fuzz: malformed requests never produce a 5xx', () => {
  // The handler is called directly (worker-fetch.ts): through SELF.fetch each of 300 requests is slower than the last.
  it('300 seeded random requests', async () => {
    const rng = new SeededRandom(2026);
    const pick = <T>(xs: readonly T[]) => xs[rng.nextInt(xs.length)]!;
    const ids = [...manifests.map((m) => m.id), 'nope', '', '..', '%00', 'a'.repeat(300)];
    const routes = ['sample.png', 'grid.png', 'interpolate.png', 'latents', 'generate', 'encode', 'reconstruct', '', 'x'];
    const names = ['seed', 'n', 'cols', 'class', 'from', 'to', 'steps', 'zz', ''];
    const values = ['', '0', '1', '-1', '64', '65', '1e3', '4294967296', 'NaN', 'abc', '9'.repeat(40), '%ZZ', '1.0', ' 1'];
    const bodies = ['', '{', '[]', 'null', '{"latents":[[1e309]]}', '{"latents":"x"}', '{"latents":[[]],"classes":"a"}', '\u0000\u0001', JSON.stringify({ latents: [[1, 2, 3]] })];
    const types = ['application/json', 'image/png', 'text/plain', ''];
    for (let i = 0; i < 300; i++) {
      const query = Array.from({ length: rng.nextInt(4) }, () => `${pick(names)}=${pick(values)}`).join('&');
      const target = `http://edge.test/v1/models/${pick(ids)}/${pick(routes)}${query ? `?${query}` : ''}`;
      const post = rng.nextFloat() < 0.5;
      const res = await workerFetch(target, post ? { method: 'POST', headers: { 'Content-Type': pick(types) }, body: pick(bodies) } : {});
      const text = await res.text();
      expect(res.status, `${post ? 'POST' : 'GET'} ${target} -> ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
      if (res.status >= 400) expect(JSON.parse(text).error.code).toBeTruthy();
    }
  });
});
