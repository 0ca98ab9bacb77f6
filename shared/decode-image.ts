/**
 * Decoding PNG and JPEG uploads the same way on both sides: the edge's encode route (edge/inference/upload.ts) and the
 * trainer's folder loader (trainer/data/folder.ts, for the files this can decode) call this, so an image sent to
 * the API becomes exactly the pixels the model was trained on. JPEG decoders differ: libjpeg-turbo (sharp) and
 * jpeg-js upsample chroma differently: 10 levels apart at worst on the sharp-edged pictures of
 * tests/helpers/image-folder.ts, after resizing to 16x16. Hence one decoder for both: jpeg-js (baseline,
 * progressive, gray, CMYK and Adobe-transformed JPEGs) and shared/png-decode.ts (every PNG colour type, bit depth and
 * interlacing). The trainer takes exactly the PNG and JPEG files this takes (trainer/data/folder.ts has no fallback).
 */
import { decode as decodeJpegBytes } from 'jpeg-js';
import type { RasterImage } from './png.js';
import { decodePng, pixelLimitMessage } from './png-decode.js';

export const IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/** The type the bytes' signature says, or undefined. */
export function sniffImageType(b: Uint8Array): ImageType | undefined {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  return undefined;
}

/**
 * Most scans a JPEG may have. Each scan of a progressive JPEG revisits every block of the image: measured with
 * jpeg-js at 2048 x 2048, ~11 ms of CPU per extra 16-byte scan, so the ~60,000 that fit in a 1 MiB body (a "scan
 * bomb", tests/corpus/hostile-jpeg.ts) would cost about 11 minutes. Encoders write 1 scan (baseline) to about 10
 * (libjpeg's and sharp's progressive scripts: 10); 32 bound a hostile file to well under a second.
 */
export const MAX_JPEG_SCANS = 32;

/**
 * The scans of a JPEG, walking its segments: [start, end) of each SOS segment with its entropy-coded data, at most
 * `limit` + 1 of them (enough to tell there are too many). Throws a RangeError when the segments are malformed.
 */
export function jpegScans(b: Uint8Array, limit = Infinity): [number, number][] {
  const scans: [number, number][] = [];
  let pos = 2;
  while (pos + 4 <= b.length && scans.length <= limit) {
    if (b[pos] !== 0xff) throw new RangeError('not a usable JPEG: a segment does not start with a marker');
    const marker = b[pos + 1]!;
    if (marker === 0xd9) break; // EOI
    if (marker === 0xff || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += marker === 0xff ? 1 : 2; // a fill byte, or RSTn (no length)
      continue;
    }
    const length = (b[pos + 2]! << 8) | b[pos + 3]!;
    if (length < 2 || pos + 2 + length > b.length) throw new RangeError('not a usable JPEG: a segment runs past the end (truncated)');
    const start = pos;
    pos += 2 + length;
    if (marker !== 0xda) continue;
    // Entropy-coded data up to the next marker (0xFF followed by neither 0x00 nor a restart marker).
    while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1] !== 0x00 && !(b[pos + 1]! >= 0xd0 && b[pos + 1]! <= 0xd7))) pos++;
    scans.push([start, pos]);
  }
  return scans;
}

/** Start-of-frame markers (SOF0-SOF15 less DHT, JPG and DAC): the segment that holds the image's size. */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** A JPEG's [width, height] from its frame header, walking the segments before the first scan; throws if none. */
export function jpegSize(b: Uint8Array): [number, number] {
  let pos = 2;
  while (pos + 4 <= b.length && b[pos] === 0xff) {
    const marker = b[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (isSof(marker) && pos + 9 <= b.length) return [(b[pos + 7]! << 8) | b[pos + 8]!, (b[pos + 5]! << 8) | b[pos + 6]!];
    if (marker === 0xda || marker === 0xd9) break;
    const length = (b[pos + 2]! << 8) | b[pos + 3]!;
    if (length < 2 || pos + 2 + length > b.length) throw new RangeError('not a usable JPEG: a segment runs past the end (truncated)');
    pos += 2 + length;
  }
  throw new RangeError('not a usable JPEG: no frame header before the image data (truncated or corrupt)');
}

/**
 * Decodes a PNG or JPEG of the given type into gray, RGB or RGBA bytes; throws a RangeError saying why not. At most
 * `maxPixels` pixels, checked from the header before any pixel is decoded, and said the same way for both formats.
 */
export function decodeImage(bytes: Uint8Array, type: ImageType, maxPixels: number): RasterImage {
  if (sniffImageType(bytes) !== type) throw new RangeError(type === 'image/png' ? 'not a PNG (bad signature)' : 'not a JPEG (no SOI marker)');
  if (type === 'image/png') return decodePng(bytes, maxPixels);
  const [width, height] = jpegSize(bytes);
  if (width * height > maxPixels) throw new RangeError(pixelLimitMessage('JPEG', width, height, maxPixels));
  if (width === 0 || height === 0) throw new RangeError(`not a usable JPEG: its frame header says ${width} x ${height} pixels`);
  if (jpegScans(bytes, MAX_JPEG_SCANS).length > MAX_JPEG_SCANS) throw new RangeError(`not a usable JPEG: more than ${MAX_JPEG_SCANS} scans`);
  try {
    // maxResolutionInMP backs up the check above; maxMemoryUsageInMB bounds the decoder's own buffers;
    // tolerantDecoding off: a truncated or corrupt file is refused, not half-decoded.
    const img = decodeJpegBytes(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: maxPixels / 1e6 + 1, maxMemoryUsageInMB: 64 + (maxPixels * 8) / 2 ** 20 });
    const channels = img.data.length / (img.width * img.height);
    if (channels !== 1 && channels !== 3) throw new Error(`unsupported JPEG layout (${channels} channels)`);
    return { width: img.width, height: img.height, channels, data: img.data };
  } catch (err) {
    const message = (err as Error).message;
    // jpeg-js reads past the end of a cut file as "marker was not found" or an index error: say what happened.
    const truncated = jpegScans(bytes).length === 0 || !hasEoi(bytes) ? ' (the file is truncated: no end-of-image marker)' : '';
    throw new RangeError(`not a usable JPEG: ${message.slice(0, 200)}${truncated}`);
  }
}

/** Whether the JPEG ends with its EOI marker (some writers pad after it: allow a little). */
function hasEoi(b: Uint8Array): boolean {
  for (let i = b.length - 2; i >= Math.max(0, b.length - 64); i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
  return false;
}
