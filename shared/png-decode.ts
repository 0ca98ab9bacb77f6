/**
 * PNG decoding for both sides: every colour type (grayscale, RGB, palette, grayscale + alpha, RGBA), every bit depth
 * the PNG specification allows (1, 2, 4, 8, 16), Adam7 interlacing and tRNS transparency, to 8-bit gray, RGB or RGBA.
 * The edge's encode route and the trainer's folder loader both call it (through shared/decode-image.ts), so a file
 * sent to the API and the same file in a training folder give the same pixels.
 *
 * Written here rather than taken from npm: fast-png and UPNG.js inflate the whole image data with pako in one call,
 * with no bound on its output, so a decompression bomb (tests/corpus/hostile-png.ts: 934 KB that inflate to 900 MiB)
 * costs what it asks. Here the image data inflates in small slices and stops at the size the header implies
 * (inflateExactly), and the header's pixel count is checked before anything is inflated.
 *
 * Strict: every chunk's CRC is checked, IHDR comes first, IDAT chunks are consecutive, IEND ends the file, unknown
 * critical chunks are refused. Throws a RangeError saying what is unsupported or malformed; CPU and memory stay
 * proportional to `bytes.length` plus the allowed image size (at most 8 bytes a pixel inflated, 16-bit RGBA).
 */
import { Unzlib } from 'fflate';
import { crc32, type RasterImage } from './png.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Samples per pixel of each colour type, and the bit depths the PNG specification allows for it. */
const COLOR_TYPES: Record<number, { samples: number; depths: number[]; name: string }> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16], name: 'grayscale' },
  2: { samples: 3, depths: [8, 16], name: 'RGB' },
  3: { samples: 1, depths: [1, 2, 4, 8], name: 'palette' },
  4: { samples: 2, depths: [8, 16], name: 'grayscale + alpha' },
  6: { samples: 4, depths: [8, 16], name: 'RGBA' },
};

/** Adam7 passes: [x0, y0, dx, dy]. A non-interlaced image is one pass [0, 0, 1, 1]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/** The limit's words, the same for PNG and JPEG (shared/decode-image.ts). */
export function pixelLimitMessage(kind: string, width: number, height: number, maxPixels: number): string {
  const side = Math.sqrt(maxPixels);
  const max = Number.isInteger(side) ? `${maxPixels} pixels (${side} x ${side})` : `${maxPixels} pixels`;
  return `${kind} is ${width} x ${height} = ${width * height} pixels, over the limit of ${max}`;
}

/** Inflate input is fed in slices this size: deflate expands at most ~1032:1, so one slice yields <= ~1 MiB. */
const INFLATE_SLICE = 1024;

/**
 * Inflates the zlib stream split across `parts` into exactly `expected` bytes, or throws. Bounded: input is fed in
 * small slices and inflation stops as soon as the output passes `expected`, so a decompression bomb costs at most
 * ~1 MiB more than an honest image, in memory and in time. The stream's Adler-32 must match (fflate does not check it).
 */
function inflateExactly(parts: Uint8Array[], expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let filled = 0;
  let over = false;
  let ended = false;
  const inflater = new Unzlib((data, final) => {
    if (filled + data.length > expected) over = true;
    else out.set(data, filled);
    filled += data.length;
    if (final) ended = true;
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  let fed = 0;
  try {
    for (const part of parts) {
      for (let o = 0; o < part.length && !over; o += INFLATE_SLICE) {
        const slice = part.subarray(o, Math.min(part.length, o + INFLATE_SLICE));
        fed += slice.length;
        inflater.push(slice, fed === total);
      }
      if (over) break;
    }
  } catch {
    throw new RangeError('PNG image data is corrupt');
  }
  if (over) throw new RangeError(`PNG image data inflates to more than the ${expected} bytes its header implies`);
  if (!ended || filled < expected) throw new RangeError('PNG image data is truncated');
  const tail = lastBytes(parts, 4);
  const adler = ((tail[0]! << 24) | (tail[1]! << 16) | (tail[2]! << 8) | tail[3]!) >>> 0;
  if (adler !== adler32(out)) throw new RangeError('PNG image data fails its Adler-32 check (corrupt, or extra data after the stream)');
  return out;
}

function lastBytes(parts: Uint8Array[], n: number): number[] {
  const out: number[] = [];
  for (let p = parts.length - 1; p >= 0 && out.length < n; p--) for (let i = parts[p]!.length - 1; i >= 0 && out.length < n; i--) out.unshift(parts[p]![i]!);
  return out;
}

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552: the most bytes before b can overflow 2^32 (zlib's NMAX).
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(bytes.length, i + 5552);
    for (; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  color: number;
  interlaced: boolean;
}

/** The passes of an image as [x0, y0, dx, dy, width, height], empty ones left out. */
function passes(h: Header): [number, number, number, number, number, number][] {
  const list = h.interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  return list
    .map(([x0, y0, dx, dy]) => [x0, y0, dx, dy, Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy)] as [number, number, number, number, number, number])
    .filter(([, , , , w, hh]) => w > 0 && hh > 0);
}

/** Undoes the row filters of one pass in place (PNG specification, section 9): `bpp` is the filter's byte distance. */
function unfilter(raw: Uint8Array, start: number, rowBytes: number, rows: number, bpp: number): void {
  for (let y = 0; y < rows; y++) {
    const f = start + y * (rowBytes + 1);
    const filter = raw[f]!;
    const row = f + 1;
    const prev = row - (rowBytes + 1);
    if (filter === 0) continue;
    if (filter > 4) throw new RangeError(`PNG row ${y} has unknown filter type ${filter}`);
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? raw[row + x - bpp]! : 0;
      const b = y > 0 ? raw[prev + x]! : 0;
      let pred: number;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else {
        const c = x >= bpp && y > 0 ? raw[prev + x - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      raw[row + x] = (raw[row + x]! + pred) & 0xff;
    }
  }
}

/** Decodes a PNG to 8-bit gray, RGB or RGBA (see the file's comment); at most `maxPixels` pixels. */
export function decodePng(bytes: Uint8Array, maxPixels = 16_777_216): RasterImage {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new RangeError('not a PNG (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let h: Header | undefined;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatDone = false;
  let ended = false;
  while (!ended) {
    if (pos + 12 > bytes.length) throw new RangeError(pos === bytes.length ? 'PNG has no IEND chunk (truncated)' : 'PNG chunk header is truncated');
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw new RangeError('PNG chunk type is not four letters');
    if (length > bytes.length - pos - 12) throw new RangeError(`PNG chunk ${type} is truncated`);
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    const crc = view.getUint32(pos + 8 + length);
    if (((crc32(bytes.subarray(pos + 4, pos + 8 + length)) ^ 0xffffffff) >>> 0) !== crc) throw new RangeError(`PNG chunk ${type} fails its CRC check`);
    if ((pos === 8) !== (type === 'IHDR')) throw new RangeError('PNG must start with exactly one IHDR chunk');
    if (type !== 'IDAT' && idat.length > 0) idatDone = true;
    if (type === 'IHDR') {
      if (length !== 13) throw new RangeError('PNG IHDR chunk must be 13 bytes');
      const [depth, color, compression, filter, interlace] = body.subarray(8, 13) as unknown as number[];
      h = { width: view.getUint32(pos + 8), height: view.getUint32(pos + 12), depth: depth!, color: color!, interlaced: interlace === 1 };
      const ct = COLOR_TYPES[h.color];
      if (!ct) throw new RangeError(`PNG colour type ${h.color} does not exist (0, 2, 3, 4 or 6)`);
      if (!ct.depths.includes(h.depth)) throw new RangeError(`PNG ${ct.name} images have bit depth ${ct.depths.join(', ')}, not ${h.depth}`);
      if (compression !== 0 || filter !== 0 || interlace! > 1) throw new RangeError('PNG compression, filter or interlace method is not one the specification defines');
      if (h.width < 1 || h.height < 1) throw new RangeError(`PNG size ${h.width}x${h.height} is empty`);
      if (h.width * h.height > maxPixels) throw new RangeError(pixelLimitMessage('PNG', h.width, h.height, maxPixels));
    } else if (type === 'IDAT') {
      if (idatDone) throw new RangeError('PNG IDAT chunks must be consecutive');
      idat.push(body);
    } else if (type === 'PLTE') {
      if (length % 3 !== 0 || length === 0 || length > 768) throw new RangeError('PNG PLTE chunk must hold 1 to 256 RGB entries');
      palette = body;
    } else if (type === 'tRNS') {
      trns = body;
    } else if (type === 'IEND') {
      ended = true;
    } else if (type.charCodeAt(0) < 97) {
      // An uppercase first letter marks a critical chunk: one this decoder does not know changes the image.
      throw new RangeError(`PNG critical chunk ${type} is not supported`);
    }
    pos += 12 + length;
  }
  if (pos !== bytes.length) throw new RangeError(`PNG has ${bytes.length - pos} bytes after its IEND chunk`);
  if (idat.length === 0) throw new RangeError('PNG has no IDAT chunk');
  const hd = h!;
  if (hd.color === 3 && !palette) throw new RangeError('PNG palette image has no PLTE chunk');
  // tRNS: one 16-bit gray (2 bytes) or RGB (6 bytes) key, or at most one alpha per palette entry; a short key would
  // read missing bytes as 0 and silently make black transparent.
  if (trns && hd.color === 0 && trns.length !== 2) throw new RangeError('PNG tRNS chunk of a gray image must be 2 bytes');
  if (trns && hd.color === 2 && trns.length !== 6) throw new RangeError('PNG tRNS chunk of an RGB image must be 6 bytes');
  if (trns && hd.color === 3 && trns.length > palette!.length / 3) throw new RangeError('PNG tRNS chunk has more alphas than the palette has entries');
  const bitsPerPixel = COLOR_TYPES[hd.color]!.samples * hd.depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const layout = passes(hd).map(([x0, y0, dx, dy, w, rows]) => ({ x0, y0, dx, dy, w, rows, rowBytes: Math.ceil((w * bitsPerPixel) / 8) }));
  const raw = inflateExactly(idat, layout.reduce((n, p) => n + p.rows * (p.rowBytes + 1), 0));
  return toPixels(raw, hd, layout, bpp, palette, trns);
}

/** The unfiltered samples of every pass, placed and converted to 8-bit gray, RGB or RGBA. */
function toPixels(raw: Uint8Array, h: Header, layout: { x0: number; y0: number; dx: number; dy: number; w: number; rows: number; rowBytes: number }[], bpp: number, palette?: Uint8Array, trns?: Uint8Array): RasterImage {
  const { width, depth, color } = h;
  const alpha = color === 4 || color === 6 || trns !== undefined;
  const channels: 1 | 3 | 4 = alpha ? 4 : color === 0 ? 1 : 3;
  const out = new Uint8Array(width * h.height * channels);
  const samples = COLOR_TYPES[color]!.samples;
  const maxSample = (1 << Math.min(depth, 8)) - 1;
  // tRNS: for gray and RGB, the one sample value (at the image's depth) that is transparent; for palettes, alphas.
  const key = trns && (color === 0 || color === 2) ? Array.from({ length: samples }, (_, s) => (trns[2 * s]! << 8) | trns[2 * s + 1]!) : undefined;
  const sampleAt = (row: number, i: number): number => {
    if (depth === 8) return raw[row + i]!;
    if (depth === 16) return (raw[row + 2 * i]! << 8) | raw[row + 2 * i + 1]!;
    const bit = i * depth;
    return (raw[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & maxSample;
  };
  // To 8 bits: 16-bit samples rounded (v * 255 / 65535), low depths scaled up (1 -> 255, 2 -> 85 a step, 4 -> 17).
  const to8 = (v: number): number => (depth === 16 ? Math.round(v / 257) : depth === 8 ? v : (v * 255) / maxSample);
  const sample = [0, 0, 0, 0];
  let start = 0;
  for (const p of layout) {
    unfilter(raw, start, p.rowBytes, p.rows, bpp);
    for (let y = 0; y < p.rows; y++) {
      const row = start + y * (p.rowBytes + 1) + 1;
      for (let x = 0; x < p.w; x++) {
        for (let s = 0; s < samples; s++) sample[s] = sampleAt(row, x * samples + s);
        const o = ((p.y0 + y * p.dy) * width + p.x0 + x * p.dx) * channels;
        if (color === 3) {
          const idx = sample[0]!;
          if (3 * idx + 2 >= palette!.length) throw new RangeError(`PNG palette index ${idx} is out of its ${palette!.length / 3} entries`);
          out[o] = palette![3 * idx]!;
          out[o + 1] = palette![3 * idx + 1]!;
          out[o + 2] = palette![3 * idx + 2]!;
          if (alpha) out[o + 3] = idx < trns!.length ? trns![idx]! : 255;
        } else if (color === 0 || color === 4) {
          const g = to8(sample[0]!);
          if (channels === 1) out[o] = g;
          else {
            out[o] = out[o + 1] = out[o + 2] = g;
            out[o + 3] = color === 4 ? to8(sample[1]!) : sample[0] === key![0] ? 0 : 255;
          }
        } else {
          for (let c = 0; c < 3; c++) out[o + c] = to8(sample[c]!);
          if (color === 6) out[o + 3] = to8(sample[3]!);
          else if (alpha) out[o + 3] = sample[0] === key![0] && sample[1] === key![1] && sample[2] === key![2] ? 0 : 255;
        }
      }
    }
    start += p.rows * (p.rowBytes + 1);
  }
  return { width, height: h.height, channels, data: out };
}
