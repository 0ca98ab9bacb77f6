/** The shared contract: seeded numbers, latents, pixel conversion, PNG, tiling, manifest validation. */
import { describe, expect, it } from 'vitest';
import { SeededRandom, isValidSeed } from '../../shared/rng.js';
import { interpolateLatents, latentsForSeed } from '../../shared/latent.js';
import { bytesToPixels, pixelsToBytes } from '../../shared/pixels.js';
import { decodePng, encodePng, crc32 } from '../../shared/png.js';
import { seedFromString } from '../../shared/rng.js';
import { defaultColumns, nchwToNhwc, tileImages } from '../../shared/grid.js';
import { validateManifest, ManifestError } from '../../shared/manifest.js';

describe('SeededRandom', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new SeededRandom(123);
    const b = new SeededRandom(123);
    const c = new SeededRandom(124);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('pins the stream: these values are part of the public seed contract', () => {
    // Reference values from an independent Python implementation of splitmix32 + xoshiro128**. If they change,
    // every seeded URL serves different images.
    const r = new SeededRandom(1);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([2442144158, 3238099751, 3819917871]);
  });

  it('resumes exactly from its saved state, including the spare normal', () => {
    const r = new SeededRandom(9);
    r.nextNormal(); // leaves a spare deviate cached
    const copy = SeededRandom.fromState(JSON.parse(JSON.stringify(r.state())));
    expect(Array.from({ length: 7 }, () => copy.nextNormal())).toEqual(Array.from({ length: 7 }, () => r.nextNormal()));
  });

  it('draws normals with mean ~0 and variance ~1, uniforms in [0, 1)', () => {
    const r = new SeededRandom(2);
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = r.nextNormal();
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.01);
    for (let i = 0; i < 10_000; i++) {
      const u = r.nextFloat();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });

  it('permutes without losing or repeating an index', () => {
    const p = new SeededRandom(3).permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
  });

  it('accepts only unsigned 32-bit integer seeds', () => {
    expect(isValidSeed(0)).toBe(true);
    expect(isValidSeed(4294967295)).toBe(true);
    for (const bad of [-1, 1.5, 4294967296, NaN]) expect(isValidSeed(bad)).toBe(false);
    expect(() => new SeededRandom(-1)).toThrow(RangeError);
  });
});

describe('latentsForSeed', () => {
  it('is a prefix-stable stream: the first k of n latents are the k latents of the same seed', () => {
    const many = latentsForSeed(5, 8, 100, 'normal');
    expect(latentsForSeed(5, 3, 100, 'normal')).toEqual(many.subarray(0, 300));
  });

  it('draws uniform latents in [-1, 1)', () => {
    const u = latentsForSeed(5, 100, 100, 'uniform');
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.min(...u)).toBeLessThan(-0.99);
  });
});

describe('interpolateLatents', () => {
  const a = Float32Array.of(1, 0);
  const b = Float32Array.of(0, 1);

  it('starts at a and ends at b, for both kinds', () => {
    for (const kind of ['normal', 'uniform'] as const) {
      const path = interpolateLatents(a, b, 5, kind);
      expect(Array.from(path.subarray(0, 2))).toEqual([1, 0]);
      expect(path[8]).toBeCloseTo(0, 6);
      expect(path[9]).toBeCloseTo(1, 6);
    }
  });

  it('slerps normal latents along the great circle (constant norm between unit vectors)', () => {
    const path = interpolateLatents(a, b, 5, 'normal');
    for (let s = 0; s < 5; s++) expect(Math.hypot(path[2 * s]!, path[2 * s + 1]!)).toBeCloseTo(1, 6);
    expect(path[4]).toBeCloseTo(Math.SQRT1_2, 6); // the midpoint is at 45 degrees
  });

  it('lerps uniform latents along the straight line', () => {
    const path = interpolateLatents(a, b, 3, 'uniform');
    expect(Array.from(path.subarray(2, 4))).toEqual([0.5, 0.5]);
  });

  it('falls back to a straight line for parallel vectors', () => {
    const path = interpolateLatents(a, Float32Array.of(2, 0), 3, 'normal');
    expect(Array.from(path)).toEqual([1, 0, 1.5, 0, 2, 0]);
  });
});

describe('pixel conversion', () => {
  it('round-trips every byte through both ranges', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const range of ['-1..1', '0..1'] as const) expect(pixelsToBytes(bytesToPixels(bytes, range), range)).toEqual(bytes);
  });

  it('maps range ends to 0 and 255 and clamps outside values and NaN', () => {
    expect([...pixelsToBytes([-1, 0, 1, -3, 2, NaN], '-1..1')]).toEqual([0, 128, 255, 0, 255, 0]);
    expect([...pixelsToBytes([0, 0.5, 1], '0..1')]).toEqual([0, 128, 255]);
    expect(bytesToPixels(Uint8Array.of(0, 255), '-1..1')).toEqual(Float32Array.of(-1, 1));
  });
});

describe('PNG', () => {
  it('computes the standard CRC-32', () => {
    expect((crc32(new TextEncoder().encode('123456789')) ^ 0xffffffff) >>> 0).toBe(0xcbf43926);
  });

  it.each([1, 3, 4] as const)('encodes and decodes %i-channel images losslessly', (channels) => {
    const width = 13;
    const height = 7;
    const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37) % 256);
    const png = encodePng({ width, height, channels, data });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(decodePng(png)).toEqual({ width, height, channels, data });
  });

  it('rejects wrong sizes and malformed input', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) })).toThrow(/expected 4/);
    expect(() => decodePng(new Uint8Array(20))).toThrow(/signature/);
    const png = encodePng({ width: 4, height: 4, channels: 1, data: new Uint8Array(16) });
    expect(() => decodePng(png.subarray(0, 40))).toThrow(RangeError);
  });
});

describe('tiling', () => {
  it('places image i at row i / cols, column i % cols, edge to edge', () => {
    const shape = { width: 2, height: 2, channels: 1 as const };
    const pixels = Uint8Array.from({ length: 3 * 4 }, (_, i) => Math.floor(i / 4) + 1); // image k is all k+1
    const grid = tileImages(pixels, 3, shape, 2);
    expect([grid.width, grid.height]).toEqual([4, 4]);
    expect([...grid.data]).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 0, 0, 3, 3, 0, 0]);
  });

  it('converts NCHW to interleaved channels', () => {
    const out = nchwToNhwc(Float32Array.of(1, 2, 10, 20, 100, 200), 1, { width: 2, height: 1, channels: 3 });
    expect([...out]).toEqual([1, 10, 100, 2, 20, 200]);
  });

  it('picks near-square grids', () => {
    expect([1, 4, 10, 16, 64].map(defaultColumns)).toEqual([1, 2, 4, 4, 8]);
  });
});

describe('manifest validation', () => {
  const good = {
    schemaVersion: 1,
    id: 'dcgan-test',
    family: 'dcgan',
    version: 'abc123',
    createdAt: '2026-11-29T00:00:00.000Z',
    description: 'test',
    latent: { size: 100, distribution: 'normal' },
    classes: { count: 0, labels: [] },
    image: { width: 28, height: 28, channels: 1, pixelRange: '-1..1' },
    graphs: { generator: { file: 'generator.onnx', sha256: 'a'.repeat(64), inputs: [{ name: 'z', dtype: 'float32', shape: ['batch', 100] }], outputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 1, 28, 28] }] } },
    training: { dataset: 'fashion-mnist/train', steps: 10, epochs: 0, batchSize: 64, wallTimeSeconds: 3, backend: 'wasm', finalLosses: { d: 1, g: 2 }, seed: 1, config: {} },
  };

  it('accepts a valid manifest', () => {
    expect(validateManifest(structuredClone(good)).id).toBe('dcgan-test');
  });

  // A manifest as plain, writable JSON: each case breaks one field.
  // biome-ignore lint/suspicious/noExplicitAny: the cases write fields of any type into any depth
  type Mutable = any;
  it.each([
    ['schemaVersion', (m: Mutable) => (m.schemaVersion = 2), /schemaVersion/],
    ['family', (m: Mutable) => (m.family = 'diffusion'), /family must be one of/],
    ['latent size', (m: Mutable) => (m.latent.size = 0), /latent.size/],
    ['distribution', (m: Mutable) => (m.latent.distribution = 'cauchy'), /distribution/],
    ['pixel range', (m: Mutable) => (m.image.pixelRange = '0..255'), /pixelRange/],
    ['sha256', (m: Mutable) => (m.graphs.generator.sha256 = 'xyz'), /sha256/],
    ['missing generator', (m: Mutable) => delete m.graphs.generator, /generator is required/],
    ['id', (m: Mutable) => (m.id = 'Bad Id'), /id must match/],
    ['classes for a dcgan', (m: Mutable) => (m.classes = { count: 2, labels: ['a', 'b'] }), /classes.count must be 0/],
    ['date', (m: Mutable) => (m.createdAt = 'yesterday'), /ISO date/],
  ])('rejects a bad %s with a message naming the field', (_, mutate, message) => {
    const m = structuredClone(good);
    mutate(m);
    expect(() => validateManifest(m)).toThrow(ManifestError);
    expect(() => validateManifest(m)).toThrow(message);
  });
});

describe('string seeds', () => {
  it('all-digit seeds in [0, 2^32) keep their number; other strings are the first 4 bytes of their SHA-256', async () => {
    expect(await seedFromString('42')).toBe(42);
    expect(await seedFromString('4294967295')).toBe(4294967295);
    // SHA-256("abc") = ba7816bf 8f01cfea ... (FIPS 180-2, appendix B.1)
    expect(await seedFromString('abc')).toBe(0xba7816bf);
    expect(await seedFromString('4294967296')).not.toBe(4294967296 % 2 ** 32);
    expect(await seedFromString('')).toBeNull();
    expect(await seedFromString('é'.repeat(128))).not.toBeNull(); // 256 bytes
    expect(await seedFromString(`${'é'.repeat(128)}x`)).toBeNull(); // 257 bytes
  });
});
