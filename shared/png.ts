/**
 * PNG encoding (8-bit grayscale, RGB or RGBA), the same bytes in the trainer's sample grids and the edge's
 * responses. Deflate comes from fflate, which runs unchanged in Node, workerd and browsers.
 */
import { zlibSync } from 'fflate';

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
 * This encoder's own version: bump it with any change to the bytes encodePng writes for the same image (filter,
 * chunks, default level). The edge's RENDER_VERSION includes it, so pinned URLs' ETags change with the bytes.
 */
export const PNG_ENCODER_VERSION = 1;

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

/** Decoding, for every PNG variant, lives in png-decode.ts; re-exported for the callers that read PNGs from here. */
export { decodePng } from './png-decode.js';
