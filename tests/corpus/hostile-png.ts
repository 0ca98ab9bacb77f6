/**
 * The corpus of hostile PNG bodies: every attack on the edge's PNG decoder that was found or imagined, built
 * byte-exact at test time (the bomb would be 917 KB on disk). tests/unit/hostile-png.test.ts feeds each one to
 * shared/png.ts's decoder in Node; tests/worker/hostile-inputs.test.ts posts each one to the VAE routes in
 * workerd. `error` is what the decoder must say; the routes answer 400 invalid_body with that text.
 *
 * Kept free of Node APIs (deflate comes from fflate): the worker tests import it too.
 */
import { Zlib, zlibSync } from 'fflate';
import { crc32, encodePng } from '../../shared/png.js';

export interface HostilePng {
  name: string;
  bytes: () => Uint8Array;
  error: RegExp;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** One chunk with a correct length and CRC (pass `crc` to write a wrong one). */
export function pngChunk(type: string, body: Uint8Array, crc?: number): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc ?? (crc32(out.subarray(4, 8 + body.length)) ^ 0xffffffff) >>> 0);
  return out;
}

export function ihdr(width: number, height: number, colorType = 0): Uint8Array {
  const b = new Uint8Array(13);
  const v = new DataView(b.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  b[8] = 8;
  b[9] = colorType;
  return pngChunk('IHDR', b);
}

export function pngFile(...chunks: Uint8Array[]): Uint8Array {
  return concat([Uint8Array.from(SIGNATURE), ...chunks]);
}

const IEND = () => pngChunk('IEND', new Uint8Array(0));

/** 28x28 grayscale rows (filter byte 0 + 28 pixels each), as the VAE models take. */
const rows = (height: number, extra = 0) => new Uint8Array((28 + 1) * height + extra).map((_, i) => (i % 29 === 0 ? 0 : (i * 7) & 255));

/**
 * A zlib stream that inflates to `mebibytes` MiB of zeros from ~1 KB per MiB: fflate deflates one MiB of zeros and
 * sync-flushes it to a byte boundary; that block (independent of what precedes it: all earlier output is zeros
 * too) is repeated, then an empty final block and the Adler-32 of the zeros (a = 1, b = n mod 65521) end it. At 900
 * MiB this is the bomb that took 10.7 s and answered 200 before the decoder was bounded.
 */
export function zeroBomb(mebibytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const z = new Zlib({ level: 9 }, (d) => parts.push(d));
  z.push(new Uint8Array(1 << 20));
  z.flush(true);
  const flushed = concat(parts);
  const block = flushed.subarray(2); // without the 2-byte zlib header
  const n = mebibytes * 2 ** 20;
  const out = new Uint8Array(2 + block.length * mebibytes + 2 + 4);
  out.set(flushed.subarray(0, 2));
  for (let i = 0; i < mebibytes; i++) out.set(block, 2 + i * block.length);
  const end = 2 + block.length * mebibytes;
  out.set([0x03, 0x00], end); // an empty final fixed-Huffman block
  new DataView(out.buffer).setUint32(end + 2, (((n % 65521) << 16) | 1) >>> 0);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}

const valid = () => encodePng({ width: 28, height: 28, channels: 1, data: new Uint8Array(784).fill(90) });

export const HOSTILE_PNGS: HostilePng[] = [
  { name: 'decompression bomb: 934 KB whose IDAT inflates to 900 MiB', bytes: () => pngFile(ihdr(28, 28), pngChunk('IDAT', zeroBomb(900)), IEND()), error: /inflates to more than the 812 bytes/ },
  { name: 'header claims 100000x100000 pixels', bytes: () => pngFile(ihdr(100_000, 100_000), pngChunk('IDAT', zlibSync(rows(28))), IEND()), error: /PNG is 100000 x 100000 = 10000000000 pixels, over the limit of \d+ pixels/ },
  { name: 'header claims 2^32-1 x 2^32-1 pixels', bytes: () => pngFile(ihdr(0xffffffff, 0xffffffff), IEND()), error: /over the limit/ },
  { name: 'extra image data after the last row', bytes: () => pngFile(ihdr(28, 28), pngChunk('IDAT', zlibSync(rows(28, 1000))), IEND()), error: /inflates to more than/ },
  { name: 'image data one row short', bytes: () => pngFile(ihdr(28, 28), pngChunk('IDAT', zlibSync(rows(27))), IEND()), error: /truncated/ },
  { name: 'IHDR with a wrong CRC', bytes: () => { const b = valid(); b[29]! ^= 1; return b; }, error: /IHDR fails its CRC/ },
  { name: 'IDAT with a wrong CRC', bytes: () => { const b = valid(); b[b.length - 13]! ^= 1; return b; }, error: /IDAT fails its CRC/ },
  { name: 'corrupt deflate data (CRC recomputed)', bytes: () => pngFile(ihdr(28, 28), pngChunk('IDAT', Uint8Array.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])), IEND()), error: /corrupt|truncated/ },
  { name: 'wrong Adler-32 (CRC recomputed)', bytes: () => { const z = zlibSync(rows(28)); z[z.length - 1]! ^= 1; return pngFile(ihdr(28, 28), pngChunk('IDAT', z), IEND()); }, error: /Adler-32/ },
  { name: 'bytes after IEND', bytes: () => pngFile(ihdr(28, 28), pngChunk('IDAT', zlibSync(rows(28))), IEND(), new Uint8Array(100_000)), error: /after its IEND/ },
  { name: 'no IEND (truncated file)', bytes: () => pngFile(ihdr(28, 28), pngChunk('IDAT', zlibSync(rows(28)))), error: /no IEND/ },
  { name: 'cut in the middle of IDAT', bytes: () => valid().subarray(0, 60), error: /truncated/ },
  { name: 'chunk length 2^32-1', bytes: () => { const b = pngFile(ihdr(28, 28), pngChunk('IDAT', zlibSync(rows(28))), IEND()); new DataView(b.buffer).setUint32(33, 0xffffffff); return b; }, error: /truncated/ },
  { name: 'IDAT chunks split by another chunk', bytes: () => { const z = zlibSync(rows(28)); return pngFile(ihdr(28, 28), pngChunk('IDAT', z.subarray(0, 10)), pngChunk('tEXt', new TextEncoder().encode('a\0b')), pngChunk('IDAT', z.subarray(10)), IEND()); }, error: /consecutive/ },
  { name: 'IDAT before IHDR', bytes: () => pngFile(pngChunk('IDAT', zlibSync(rows(28))), ihdr(28, 28), IEND()), error: /start with exactly one IHDR/ },
  { name: 'two IHDR chunks', bytes: () => pngFile(ihdr(28, 28), ihdr(4000, 4000), pngChunk('IDAT', zlibSync(rows(28))), IEND()), error: /exactly one IHDR/ },
  { name: 'unknown critical chunk', bytes: () => pngFile(ihdr(28, 28), pngChunk('ABCD', new Uint8Array(4)), pngChunk('IDAT', zlibSync(rows(28))), IEND()), error: /critical chunk ABCD/ },
  { name: 'chunk type with non-letters', bytes: () => pngFile(ihdr(28, 28), pngChunk('ID\0T', new Uint8Array(4)), IEND()), error: /four letters/ },
  { name: 'bit depth 16 with 8-bit rows (too little data)', bytes: () => { const h = ihdr(28, 28); h[16] = 16; return pngFile(pngChunk('IHDR', h.subarray(8, 21)), pngChunk('IDAT', zlibSync(rows(28))), IEND()); }, error: /truncated/ },
  { name: 'bit depth 3 (no such depth)', bytes: () => { const h = ihdr(28, 28); h[16] = 3; return pngFile(pngChunk('IHDR', h.subarray(8, 21)), pngChunk('IDAT', zlibSync(rows(28))), IEND()); }, error: /bit depth 1, 2, 4, 8, 16, not 3/ },
  { name: 'colour type 5 (no such type)', bytes: () => pngFile(ihdr(28, 28, 5), pngChunk('IDAT', zlibSync(rows(28))), IEND()), error: /colour type 5 does not exist/ },
  { name: 'interlace method 2', bytes: () => { const h = ihdr(28, 28); h[20] = 2; return pngFile(pngChunk('IHDR', h.subarray(8, 21)), pngChunk('IDAT', zlibSync(rows(28))), IEND()); }, error: /interlace method/ },
  { name: 'Adam7 interlaced header with non-interlaced rows', bytes: () => { const h = ihdr(28, 28); h[20] = 1; return pngFile(pngChunk('IHDR', h.subarray(8, 21)), pngChunk('IDAT', zlibSync(rows(28))), IEND()); }, error: /truncated/ },
  { name: 'palette image without PLTE', bytes: () => pngFile(ihdr(28, 28, 3), pngChunk('IDAT', zlibSync(rows(28))), IEND()), error: /no PLTE/ },
  { name: 'palette index past the palette', bytes: () => pngFile(ihdr(28, 28, 3), pngChunk('PLTE', new Uint8Array([1, 2, 3, 4, 5, 6])), pngChunk('IDAT', zlibSync(rows(28))), IEND()), error: /palette index \d+ is out of its 2 entries/ },
  { name: 'unknown row filter type', bytes: () => pngFile(ihdr(28, 28), pngChunk('IDAT', zlibSync(rows(28).map((v, i) => (i === 29 ? 9 : v)))), IEND()), error: /unknown filter type 9/ },
  { name: 'empty body', bytes: () => new Uint8Array(0), error: /signature/ },
  { name: 'a GIF sent as PNG', bytes: () => new TextEncoder().encode('GIF89a\x01\x00\x01\x00\x00\x00\x00;'), error: /signature/ },
];
