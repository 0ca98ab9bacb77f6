/**
 * PNG encoding (8-bit grayscale, RGB or RGBA), the same bytes in the trainer's sample grids and the edge's
 * responses. Deflate comes from fflate, which runs unchanged in Node, workerd and browsers.
 */
import { Unzlib, zlibSync } from 'fflate';

export interface RasterImage {
  width: number;
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  /** Row-major, interleaved channels, `width * height * channels` bytes. */
  data: Uint8Array;
}

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, (crc32(out.subarray(4, 8 + body.length)) ^ 0xffffffff) >>> 0);
  return out;
}

/**
 * Encodes `image` as PNG. Rows use filter type Up (2), which suits the smooth images generators produce;
 * `level` trades size for speed (fflate's 0..9; 6 by default).
 */
export function encodePng(image: RasterImage, level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 = 6): Uint8Array<ArrayBuffer> {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG size must be positive integers, got ${width}x${height}`);
  }
  const stride = width * channels;
  if (data.length !== stride * height) {
    throw new RangeError(`PNG data has ${data.length} bytes, expected ${stride * height} for ${width}x${height}x${channels}`);
  }
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    raw[row] = 2;
    const src = y * stride;
    if (y === 0) {
      raw.set(data.subarray(0, stride), row + 1);
    } else {
      for (let x = 0; x < stride; x++) raw[row + 1 + x] = (data[src + x]! - data[src - stride + x]!) & 0xff;
    }
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE[channels];
  const parts = [SIGNATURE, chunk('IHDR', header), chunk('IDAT', zlibSync(raw, { level })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Inflate input is fed in slices this size: deflate expands at most ~1032:1, so one slice yields <= ~1 MiB. */
const INFLATE_SLICE = 1024;

/**
 * Inflates the zlib stream split across `parts` into exactly `expected` bytes, or throws. Bounded: input is fed in
 * small slices and inflation stops as soon as the output passes `expected`, so a decompression bomb (a few hundred
 * KB that inflate to a gigabyte) costs at most ~1 MiB more than an honest image, in memory and in time. The
 * stream's Adler-32 must match the output (fflate does not check it).
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
  const last = parts[parts.length - 1]!;
  const tail = last.length >= 4 ? last.subarray(last.length - 4) : concat(parts).subarray(total - 4);
  const adler = ((tail[0]! << 24) | (tail[1]! << 16) | (tail[2]! << 8) | tail[3]!) >>> 0;
  if (adler !== adler32(out)) throw new RangeError('PNG image data fails its Adler-32 check (corrupt, or extra data after the stream)');
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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}

/**
 * Decodes an 8-bit, non-interlaced grayscale, RGB or RGBA PNG (what `encodePng` and most tools write for such
 * images), strictly: every chunk's CRC is checked, IHDR comes first, IDAT chunks are consecutive, IEND ends the
 * file, unknown critical chunks are refused, and the image data must inflate to exactly the size IHDR implies
 * (see inflateExactly). `maxPixels` is checked before anything is inflated. Throws a RangeError saying what is
 * unsupported or malformed; CPU and memory stay proportional to `bytes.length` plus the allowed image size.
 */
export function decodePng(bytes: Uint8Array, maxPixels = 16_777_216): RasterImage {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new RangeError('not a PNG (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 3 | 4 = 1;
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
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      const [depth, color, compression, filter, interlace] = body.subarray(8, 13);
      const found = Object.entries(COLOR_TYPE).find(([, t]) => t === color);
      if (depth !== 8 || !found || interlace !== 0 || compression !== 0 || filter !== 0) throw new RangeError('PNG must be 8-bit, non-interlaced grayscale, RGB or RGBA');
      channels = Number(found[0]) as 1 | 3 | 4;
      if (width < 1 || height < 1 || width * height > maxPixels) throw new RangeError(`PNG size ${width}x${height} is over the limit of ${maxPixels} pixels`);
    } else if (type === 'IDAT') {
      if (idatDone) throw new RangeError('PNG IDAT chunks must be consecutive');
      idat.push(body);
    } else if (type === 'IEND') {
      ended = true;
    } else if (type.charCodeAt(0) < 97 && type !== 'PLTE') {
      // An uppercase first letter marks a critical chunk: one this decoder does not know changes the image.
      throw new RangeError(`PNG critical chunk ${type} is not supported`);
    }
    pos += 12 + length;
  }
  if (pos !== bytes.length) throw new RangeError(`PNG has ${bytes.length - pos} bytes after its IEND chunk`);
  if (idat.length === 0) throw new RangeError('PNG has no IDAT chunk');
  const stride = width * channels;
  const raw = inflateExactly(idat, (stride + 1) * height);
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[row + x - channels]! : 0;
      const b = y > 0 ? out[row - stride + x]! : 0;
      const c = x >= channels && y > 0 ? out[row - stride + x - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new RangeError(`PNG row ${y} has unknown filter type ${filter}`);
      out[row + x] = (src[x]! + pred) & 0xff;
    }
  }
  return { width, height, channels, data: out };
}
