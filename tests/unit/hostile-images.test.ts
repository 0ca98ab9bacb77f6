/**
 * The PNG and JPEG decoders against the corpus of hostile inputs (tests/corpus/hostile-png.ts), and a property: any mutation
 * of a valid PNG decodes to the declared size or is refused with a RangeError, in bounded CPU time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '../../shared/png.js';
import { HOSTILE_PNGS } from '../corpus/hostile-png.js';
import { HOSTILE_JPEGS, scanBomb, smallJpeg } from '../corpus/hostile-jpeg.js';
import { decodeImage } from '../../shared/decode-image.js';

/** CPU milliseconds (user + system) that `work` took in this process. */
function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** What `decode` threw, and the CPU milliseconds it took to throw it. */
function refusal(decode: () => unknown): { error: unknown; ms: number } {
  let error: unknown;
  const ms = cpuMs(() => {
    try {
      decode();
    } catch (err) {
      error = err;
    }
  });
  return { error, ms };
}

describe('hostile PNG corpus', () => {
  it.each(HOSTILE_PNGS.map((h) => [h.name, h] as const))('%s: refused with a RangeError that says why', (_, h) => {
    const bytes = h.bytes();
    // 784 pixels: the limit the 28x28 VAE routes pass.
    const { error, ms } = refusal(() => decodePng(bytes, 784));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(h.error);
    // Bounded work: before the decoder was bounded the 900 MiB bomb took 10.7 s. CRC-checking a 1 MiB body is the
    // largest honest cost; 250 ms leaves room for a loaded machine.
    expect(ms).toBeLessThan(250);
  });
});

describe('property: mutated PNGs', () => {
  const base = encodePng({ width: 28, height: 28, channels: 3, data: Uint8Array.from({ length: 28 * 28 * 3 }, (_, i) => (i * 31) & 255) });
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(base.length - 1), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(base.length) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(base.length), bytes: fc.uint8Array({ maxLength: 64 }) }),
  );

  it('decode to the declared size or throw a RangeError, within 50 ms of CPU each', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let bytes = base.slice();
        for (const m of mutations) {
          if (m.kind === 'flip') bytes[Math.min(m.at, bytes.length - 1)]! ^= 1 << m.bit;
          else if (m.kind === 'cut') bytes = bytes.slice(0, m.at);
          else bytes = Uint8Array.from([...bytes.subarray(0, m.at), ...m.bytes, ...bytes.subarray(m.at)]);
        }
        const ms = cpuMs(() => {
          try {
            const img = decodePng(bytes, 28 * 28);
            expect(img.data.length).toBe(img.width * img.height * img.channels);
          } catch (err) {
            expect(err).toBeInstanceOf(RangeError);
          }
        });
        expect(ms).toBeLessThan(50);
      }),
      { numRuns: 400, seed: 11 },
    );
  });

  it('random bytes behind a PNG signature are refused', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (tail) => {
        expect(() => decodePng(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...tail]))).toThrow(RangeError);
      }),
      { numRuns: 300, seed: 12 },
    );
  });
});

describe('hostile JPEG corpus', () => {
  it.each(HOSTILE_JPEGS.map((h) => [h.name, h] as const))('%s: refused with a RangeError that says why, in bounded CPU', (_, h) => {
    const bytes = h.bytes();
    const { error, ms } = refusal(() => decodeImage(bytes, 'image/jpeg', 2048 * 2048));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(h.error);
    expect(ms).toBeLessThan(250);
  });

  it('real baseline and progressive (10-scan) JPEGs decode', () => {
    expect(decodeImage(smallJpeg(), 'image/jpeg', 2048 * 2048)).toMatchObject({ width: 48, height: 32, channels: 3 });
    expect(decodeImage(scanBomb(0), 'image/jpeg', 2048 * 2048)).toMatchObject({ width: 2048, height: 2048, channels: 3 });
  });
});
