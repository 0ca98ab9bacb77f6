/**
 * Seeded random numbers shared by the trainer and the edge.
 *
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32: small, fast, 32-bit integer arithmetic only, so it
 * gives the same stream in Node and in workerd. Normal deviates use the Box-Muller transform; its spare deviate
 * is part of the state so that a checkpointed generator resumes exactly.
 */

export interface RandomState {
  /** The four 32-bit words of xoshiro128** state. */
  s: [number, number, number, number];
  /** The cached second Box-Muller deviate, or null. */
  spare: number | null;
}

const TWO_POW_32 = 4294967296;

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * This generator's own version: bump it with any change to the numbers a seed gives (the generator, its seeding,
 * the Box-Muller deviates, the string-seed hash). The edge's RENDER_VERSION includes it.
 */
export const RNG_VERSION = 1;

export class SeededRandom {
  private s: Uint32Array;
  private spare: number | null = null;

  /** `seed` is an unsigned 32-bit integer (see `isValidSeed`). */
  constructor(seed: number) {
    if (!isValidSeed(seed)) throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
    const next = splitmix32(seed);
    this.s = new Uint32Array([next(), next(), next(), next()]);
  }

  static fromState(state: RandomState): SeededRandom {
    const r = new SeededRandom(0);
    r.s = Uint32Array.from(state.s);
    r.spare = state.spare;
    return r;
  }

  state(): RandomState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spare: this.spare };
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    let s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Standard normal deviate (Box-Muller). */
  nextNormal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    // 1 - u keeps the argument of log in (0, 1].
    const u1 = 1 - this.nextFloat();
    const u2 = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** Fisher-Yates shuffle of `0..n-1`. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export const MAX_SEED = 0xffffffff;

export function isValidSeed(seed: number): boolean {
  return Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;
}

/** Longest string seed accepted, in UTF-8 bytes. */
export const MAX_SEED_STRING_BYTES = 256;

/**
 * A seed from any string, as avatar services take one (`?seed=alice@example.com`): an all-digit string in
 * [0, 2^32) is that number (the API's numeric seeds keep their meaning); any other string of 1 to 256 UTF-8 bytes
 * becomes the first 4 bytes of its SHA-256, big-endian. Web Crypto runs in Node, workerd and browsers alike.
 * Returns null for an empty or too long string.
 */
export async function seedFromString(value: string): Promise<number | null> {
  if (/^\d{1,10}$/.test(value) && Number(value) <= MAX_SEED) return Number(value);
  const bytes = new TextEncoder().encode(value);
  if (bytes.length < 1 || bytes.length > MAX_SEED_STRING_BYTES) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}
