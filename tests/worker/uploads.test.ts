/**
 * Uploads and output scaling inside workerd: every hostile PNG of the corpus is a 400 that says why, JPEG and PNG of
 * any size are encoded, and `scale=K` upscales every PNG route by nearest neighbour, with its own ETag.
 */
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { decodePng, encodePng } from '../../shared/png.js';
import { upscaleNearest } from '../../shared/grid.js';
import { HOSTILE_PNGS } from '../corpus/hostile-png.js';
import { HOSTILE_JPEGS } from '../corpus/hostile-jpeg.js';
import { workerFetch } from './worker-fetch.js';

const manifests = bundledManifests.map((b) => validateManifest(b.manifest));
const byFamily = (f: Manifest['family']) => manifests.find((m) => m.family === f)!;
const vae = byFamily('vae');
const url = (m: Manifest, rest: string) => `http://edge.test/v1/models/${m.id}/${rest}`;
const post = (m: Manifest, rest: string, body: Uint8Array, type: string) => workerFetch(url(m, rest), { method: 'POST', headers: { 'Content-Type': type }, body: body as Uint8Array<ArrayBuffer> });

async function errorOf(res: Response) {
  return { status: res.status, ...((await res.json()) as { error: { code: string; message: string } }).error };
}

describe('hostile PNG uploads', () => {
  it.each(HOSTILE_PNGS.map((h) => [h.name, h] as const))('%s: 400 invalid_body', async (_, h) => {
    const e = await errorOf(await post(vae, 'encode', h.bytes(), 'image/png'));
    expect(e.status).toBe(400);
    expect(e.code).toBe('invalid_body');
    expect(e.message).toMatch(h.error);
  });
});

describe('hostile JPEG uploads', () => {
  it.each(HOSTILE_JPEGS.map((h) => [h.name, h] as const))('%s: 400 invalid_body', async (_, h) => {
    const e = await errorOf(await post(vae, 'encode', h.bytes(), 'image/jpeg'));
    expect([e.status, e.code]).toEqual([400, 'invalid_body']);
    expect(e.message).toMatch(h.error);
  });
});

describe('uploads of any size, PNG or JPEG', () => {
  const w = 90;
  const h = 70;
  const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 13) % 256));

  it('a JPEG is decoded, resized and encoded', async () => {
    const jpeg = encodeJpeg({ width: w, height: h, data: rgba }, 90).data;
    const res = await post(vae, 'encode', new Uint8Array(jpeg), 'image/jpeg');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { mean: number[]; logvar: number[] };
    expect(body.mean).toHaveLength(vae.latent.size);
    expect(body.mean.every(Number.isFinite)).toBe(true);
  });

  it('a truncated JPEG and a JPEG larger than 2048 x 2048 are refused', async () => {
    const jpeg = encodeJpeg({ width: w, height: h, data: rgba }, 90).data;
    expect((await errorOf(await post(vae, 'encode', new Uint8Array(jpeg.subarray(0, 600)), 'image/jpeg'))).message).toMatch(/not a usable JPEG/);
    // A frame header claiming 4000 x 4000: refused from the header, before any pixel is decoded.
    const big = new Uint8Array(jpeg);
    const sof = big.findIndex((b, i) => b === 0xff && big[i + 1] === 0xc0);
    new DataView(big.buffer).setUint16(sof + 5, 4000);
    new DataView(big.buffer).setUint16(sof + 7, 4000);
    const e = await errorOf(await post(vae, 'encode', big, 'image/jpeg'));
    expect([e.status, e.code]).toEqual([400, 'invalid_body']);
    expect(e.message).toBe('body: JPEG is 4000 x 4000 = 16000000 pixels, over the limit of 4194304 pixels (2048 x 2048)');
  });

  it('reconstruct takes a PNG of another size and answers the model size, scaled on request', async () => {
    const png = encodePng({ width: w, height: h, channels: 4, data: rgba });
    const res = await post(vae, 'reconstruct?scale=3', png, 'image/png');
    expect(res.status).toBe(200);
    const img = decodePng(new Uint8Array(await res.arrayBuffer()));
    expect([img.width, img.height]).toEqual([3 * vae.image.width, 3 * vae.image.height]);
  });
});

describe('scale=K', () => {
  const dcgan = byFamily('dcgan');

  it('upscales sample.png by nearest neighbour, with its own ETag', async () => {
    const one = await workerFetch(url(dcgan, 'sample.png?seed=5'));
    const four = await workerFetch(url(dcgan, 'sample.png?seed=5&scale=4'));
    expect(four.headers.get('ETag')).not.toBe(one.headers.get('ETag'));
    const a = decodePng(new Uint8Array(await one.arrayBuffer()));
    const b = decodePng(new Uint8Array(await four.arrayBuffer()));
    expect(b).toEqual(upscaleNearest(a, 4));
  });

  it('grid.png and interpolate.png scale too; generate scales its PNG and refuses scale for JSON', async () => {
    const grid = decodePng(new Uint8Array(await (await workerFetch(url(dcgan, 'grid.png?seed=1&n=4&cols=2&scale=2'))).arrayBuffer()));
    expect([grid.width, grid.height]).toEqual([4 * dcgan.image.width, 4 * dcgan.image.height]);
    const interp = decodePng(new Uint8Array(await (await workerFetch(url(dcgan, 'interpolate.png?from=1&to=2&steps=3&scale=2'))).arrayBuffer()));
    expect([interp.width, interp.height]).toEqual([6 * dcgan.image.width, 2 * dcgan.image.height]);
    const latents = [Array.from({ length: dcgan.latent.size }, () => 0.1)];
    const gen = await workerFetch(url(dcgan, 'generate?scale=5'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ latents }) });
    expect(decodePng(new Uint8Array(await gen.arrayBuffer())).width).toBe(5 * dcgan.image.width);
    const json = await workerFetch(url(dcgan, 'generate?scale=2'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ latents, format: 'json' }) });
    expect((await errorOf(json)).message).toMatch(/applies to PNG output/);
  });

  it('scale outside [1, 8] is a 400 naming the bound', async () => {
    for (const bad of ['0', '9', '2.5', 'x']) {
      const e = await errorOf(await workerFetch(url(dcgan, `sample.png?seed=1&scale=${bad}`)));
      expect([e.status, e.code]).toEqual([400, 'invalid_parameter']);
      expect(e.message).toContain('[1, 8]');
    }
  });
});

describe('string seeds', () => {
  const dcgan = byFamily('dcgan');

  it('a user id as seed draws the image of the number its SHA-256 begins with, said in X-Seed', async () => {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('alice@example.com')));
    const expected = new DataView(digest.buffer).getUint32(0);
    const byString = await workerFetch(url(dcgan, `sample.png?seed=${encodeURIComponent('alice@example.com')}`));
    expect(byString.status).toBe(200);
    expect(byString.headers.get('X-Seed')).toBe(String(expected));
    const byNumber = await workerFetch(url(dcgan, `sample.png?seed=${expected}`));
    expect(byString.headers.get('ETag')).toBe(byNumber.headers.get('ETag'));
    expect(new Uint8Array(await byString.arrayBuffer())).toEqual(new Uint8Array(await byNumber.arrayBuffer()));
  });

  it('interpolate takes string seeds; an empty or 257-byte seed is a 400', async () => {
    expect((await workerFetch(url(dcgan, 'interpolate.png?from=alice&to=bob&steps=3'))).status).toBe(200);
    for (const bad of ['', 'x'.repeat(257)]) {
      const e = await errorOf(await workerFetch(url(dcgan, `sample.png?seed=${bad}`)));
      expect([e.status, e.code]).toEqual([400, 'invalid_parameter']);
      expect(e.message).toContain('1 to 256 UTF-8 bytes');
    }
  });
});
