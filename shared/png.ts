/**
 * PNG encoding (8-bit grayscale, RGB or RGBA), the same bytes in the trainer's sample grids and the edge's
 * responses. Deflate comes from fflate, which runs unchanged in Node, workerd and browsers.
 */
import { unzlibSync, zlibSync } from 'fflate';

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

/**
 * Decodes an 8-bit, non-interlaced grayscale, RGB or RGBA PNG (what `encodePng` and most tools write for such
 * images). Throws a RangeError saying what is unsupported or malformed.
 */
export function decodePng(bytes: Uint8Array, maxPixels = 16_777_216): RasterImage {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new RangeError('not a PNG (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 3 | 4 = 1;
  const idat: Uint8Array[] = [];
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + length > bytes.length) throw new RangeError(`PNG chunk ${type} is truncated`);
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      const [depth, color, , , interlace] = body.subarray(8, 13);
      const found = Object.entries(COLOR_TYPE).find(([, t]) => t === color);
      if (depth !== 8 || !found || interlace !== 0) throw new RangeError('PNG must be 8-bit, non-interlaced grayscale, RGB or RGBA');
      channels = Number(found[0]) as 1 | 3 | 4;
      if (width < 1 || height < 1 || width * height > maxPixels) throw new RangeError(`PNG size ${width}x${height} is over the limit of ${maxPixels} pixels`);
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + length;
  }
  if (width === 0 || idat.length === 0) throw new RangeError('PNG has no IHDR or no IDAT chunk');
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  idat.reduce((o, c) => (joined.set(c, o), o + c.length), 0);
  let raw: Uint8Array;
  try {
    raw = unzlibSync(joined);
  } catch {
    throw new RangeError('PNG image data is corrupt');
  }
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new RangeError('PNG image data is truncated');
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
