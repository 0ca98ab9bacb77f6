/**
 * The corpus of hostile JPEG bodies for the encode routes (edge/inference/upload.ts, shared/decode-image.ts): built at test
 * time from a small real JPEG (jpeg-js's encoder, so the worker tests can build them too).
 */
import { encode } from 'jpeg-js';
import { PROGRESSIVE_2048_BASE64 } from './progressive-jpeg.js';
import { jpegScans } from '../../shared/decode-image.js';

export interface HostileJpeg {
  name: string;
  bytes: () => Uint8Array;
  error: RegExp;
}

/** A real 48x32 baseline JPEG. */
export function smallJpeg(): Uint8Array {
  const data = Uint8Array.from({ length: 48 * 32 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 29) & 255));
  return new Uint8Array(encode({ width: 48, height: 32, data }, 80).data);
}

/** The offset of the first marker `m` (0xFF m) in a JPEG's segment headers. */
function markerAt(b: Uint8Array, m: number): number {
  for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === m) return i;
  throw new Error(`no marker ff${m.toString(16)}`);
}

/**
 * A scan bomb: a real 2048 x 2048 progressive JPEG whose last scan (16 bytes) is repeated `extra` times. Each scan
 * makes jpeg-js revisit every block of the image: measured ~11 ms of CPU per extra scan here (0 extra: 250 ms, 50:
 * 728 ms, 200: 2.4 s), so the 60,000 that fit in a 1 MiB body would cost about 11 minutes.
 */
export function scanBomb(extra: number): Uint8Array {
  const bin = atob(PROGRESSIVE_2048_BASE64);
  const base = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  const [a, c] = jpegScans(base).at(-1)!;
  const out = new Uint8Array(base.length + extra * (c - a));
  out.set(base.subarray(0, c));
  for (let i = 0; i < extra; i++) out.set(base.subarray(a, c), c + i * (c - a));
  out.set(base.subarray(c), c + extra * (c - a));
  return out;
}

export const HOSTILE_JPEGS: HostileJpeg[] = [
  { name: 'scan bomb: a 2048x2048 progressive JPEG with 60,000 extra scans (985 KB)', bytes: () => scanBomb(60_000), error: /more than 32 scans/ },
  {
    name: 'frame header claiming 65535 x 65535 pixels',
    bytes: () => {
      const b = smallJpeg();
      const sof = markerAt(b, 0xc0);
      new DataView(b.buffer).setUint16(sof + 5, 65535);
      new DataView(b.buffer).setUint16(sof + 7, 65535);
      return b;
    },
    error: /JPEG is 65535 x 65535 = 4294836225 pixels, over the limit of 4194304 pixels \(2048 x 2048\)/,
  },
  { name: 'truncated in the middle of the scan', bytes: () => smallJpeg().subarray(0, 400), error: /not a usable JPEG.*truncated/ },
  { name: 'segment length past the end', bytes: () => Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0x00]), error: /runs past the end/ },
  { name: 'SOI and nothing else', bytes: () => Uint8Array.from([0xff, 0xd8, 0xff]), error: /not a usable JPEG/ },
  { name: 'a PNG sent as JPEG', bytes: () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), error: /not a JPEG/ },
];
