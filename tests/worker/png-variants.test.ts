/**
 * The PNG decoder inside workerd (shared/png-decode.ts, pure JS on fflate): 16-bit, palette with tRNS, 2-bit gray,
 * gray + alpha and Adam7-interlaced PNGs, written byte by byte here (no sharp in workerd), each encode exactly as the
 * plain 8-bit RGBA PNG of the same picture does: the same posterior, to the last bit.
 */
import { zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { validateManifest } from '../../shared/manifest.js';
import { encodePng } from '../../shared/png.js';
import { ihdr, pngChunk, pngFile } from '../corpus/hostile-png.js';
import { workerFetch } from './worker-fetch.js';

const vae = bundledManifests.map((b) => validateManifest(b.manifest)).find((m) => m.family === 'vae')!;
const W = 11;
const H = 9;
const IEND = pngChunk('IEND', new Uint8Array(0));

/** A PNG of `samples` (bytes per pixel `bpp`, one row of raw samples per image row) with the given header fields. */
function png(depth: number, color: number, rowBytes: (y: number, x0: number, dx: number, w: number) => number[], interlace = 0, extra: Uint8Array[] = []): Uint8Array {
  const h = ihdr(W, H, color);
  h[16] = depth;
  h[20] = interlace;
  const passes = interlace ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] : [[0, 0, 1, 1]];
  const raw: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((W - x0!) / dx!);
    if (w <= 0) continue;
    for (let y = y0!; y < H; y += dy!) raw.push(0, ...rowBytes(y, x0!, dx!, w));
  }
  return pngFile(pngChunk('IHDR', h.subarray(8, 21)), ...extra, pngChunk('IDAT', zlibSync(Uint8Array.from(raw))), IEND);
}

// The picture: 4 colours in a pattern, one of them transparent.
const PALETTE = [[200, 30, 40], [20, 180, 60], [30, 60, 220], [250, 250, 250]];
const index = (x: number, y: number) => (x * 3 + y * 5 + ((x * y) % 3)) % 4;
const alpha = (i: number) => (i === 3 ? 0 : 255);
const cols = (x0: number, dx: number, w: number) => Array.from({ length: w }, (_, i) => x0 + i * dx);

const reference = encodePng({ width: W, height: H, channels: 4, data: Uint8Array.from({ length: W * H * 4 }, (_, o) => {
  const i = index((o >> 2) % W, Math.floor((o >> 2) / W));
  return o % 4 === 3 ? alpha(i) : PALETTE[i]![o % 4]!;
}) });
const grayReference = encodePng({ width: W, height: H, channels: 4, data: Uint8Array.from({ length: W * H * 4 }, (_, o) => {
  const i = index((o >> 2) % W, Math.floor((o >> 2) / W));
  return o % 4 === 3 ? alpha(i) : i * 85;
}) });

const variants: [string, Uint8Array, Uint8Array][] = [
  ['RGBA, 16-bit', png(16, 6, (y, x0, dx, w) => cols(x0, dx, w).flatMap((x) => { const i = index(x, y); return [...PALETTE[i]!, alpha(i)].flatMap((v) => [v, v]); })), reference],
  ['RGBA, 8-bit, Adam7', png(8, 6, (y, x0, dx, w) => cols(x0, dx, w).flatMap((x) => { const i = index(x, y); return [...PALETTE[i]!, alpha(i)]; }), 1), reference],
  ['palette, 2-bit, tRNS, Adam7', png(2, 3, (y, x0, dx, w) => packBits(cols(x0, dx, w).map((x) => index(x, y)), 2), 1, [pngChunk('PLTE', Uint8Array.from(PALETTE.flat())), pngChunk('tRNS', Uint8Array.from([255, 255, 255, 0]))]), reference],
  ['gray + alpha, 8-bit', png(8, 4, (y, x0, dx, w) => cols(x0, dx, w).flatMap((x) => { const i = index(x, y); return [i * 85, alpha(i)]; })), grayReference],
  ['gray, 2-bit, tRNS, Adam7', png(2, 0, (y, x0, dx, w) => packBits(cols(x0, dx, w).map((x) => index(x, y)), 2), 1, [pngChunk('tRNS', Uint8Array.from([0, 3]))]), grayReference],
];

function packBits(values: number[], depth: number): number[] {
  const out = new Array<number>(Math.ceil((values.length * depth) / 8)).fill(0);
  values.forEach((v, i) => (out[(i * depth) >> 3]! |= v << (8 - depth - ((i * depth) & 7))));
  return out;
}

const encode = async (body: Uint8Array) => {
  const res = await workerFetch(`http://edge.test/v1/models/${vae.id}/encode`, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: body as Uint8Array<ArrayBuffer> });
  expect(res.status, res.status === 200 ? '' : await res.clone().text()).toBe(200);
  return (await res.json()) as { mean: number[]; logvar: number[] };
};

describe('PNG variants inside workerd', () => {
  it.each(variants)('%s encodes exactly as the 8-bit RGBA PNG of the same picture', async (_, bytes, same) => {
    expect(await encode(bytes)).toEqual(await encode(same));
  });

  it('the two pictures are told apart (the comparison can fail)', async () => {
    expect((await encode(reference)).mean).not.toEqual((await encode(grayReference)).mean);
  });
});
