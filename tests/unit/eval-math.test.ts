/** The evaluation's mathematics on cases with known answers: Frechet distance, scores, IWAE vs ELBO, charts. */
import { describe, expect, it } from 'vitest';
import { fitGaussian, frechetDistance, sqrtPsd, symmetricEigen, type Gaussian } from '../../trainer/eval/frechet.js';
import { classAccuracy, classHistogram, classifierScore } from '../../trainer/eval/scores.js';
import { importanceWeightedBound, negativeElbo, type VaeFunctions } from '../../trainer/eval/likelihood.js';
import { downsample, lineChart, ticks } from '../../trainer/eval/chart.js';
import { SeededRandom } from '../../shared/rng.js';

function randomSymmetric(n: number, seed: number, psd: boolean): Float64Array {
  const rng = new SeededRandom(seed);
  const b = Float64Array.from({ length: n * n }, () => rng.nextNormal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      if (psd) for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!;
      else s = (b[i * n + j]! + b[j * n + i]!) / 2;
      a[i * n + j] = s;
    }
  }
  return a;
}

function samples(count: number, dim: number, seed: number, shift = 0, scale = 1): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: count * dim }, (_, i) => shift + scale * rng.nextNormal() + (i % dim) * 0.1);
}

describe('linear algebra', () => {
  it('Jacobi eigendecomposition reconstructs a symmetric matrix', () => {
    const n = 12;
    const a = randomSymmetric(n, 3, false);
    const { values, vectors } = symmetricEigen(a, n);
    let maxErr = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
        maxErr = Math.max(maxErr, Math.abs(s - a[i * n + j]!));
      }
    }
    expect(maxErr).toBeLessThan(1e-9);
  });

  it('the PSD square root squares back to the matrix', () => {
    const n = 10;
    const a = randomSymmetric(n, 4, true);
    const r = sqrtPsd(a, n);
    let maxErr = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += r[i * n + k]! * r[k * n + j]!;
        maxErr = Math.max(maxErr, Math.abs(s - a[i * n + j]!));
      }
    }
    expect(maxErr).toBeLessThan(1e-8);
  });
});

describe('Frechet distance (Heusel et al. 2017)', () => {
  it('is ~0 for a set against itself and grows with a shift', () => {
    const a = fitGaussian(samples(2000, 16, 1), 2000, 16);
    expect(frechetDistance(a, a)).toBeLessThan(1e-6);
    const near = frechetDistance(a, fitGaussian(samples(2000, 16, 2), 2000, 16));
    const shifted = frechetDistance(a, fitGaussian(samples(2000, 16, 2, 0.5), 2000, 16));
    const wider = frechetDistance(a, fitGaussian(samples(2000, 16, 2, 0, 2), 2000, 16));
    expect(near).toBeGreaterThan(0);
    expect(near).toBeLessThan(0.2);
    // A mean shift of 0.5 in 16 dimensions adds 16 * 0.25 = 4; doubling the spread adds about 16 * (2 - 1)^2.
    expect(shifted).toBeGreaterThan(4 - 0.3);
    expect(shifted).toBeLessThan(4 + 0.3);
    expect(wider).toBeGreaterThan(16 * 0.85);
    expect(wider).toBeLessThan(16 * 1.15);
  });

  it('matches the closed form for diagonal covariances: |dmu|^2 + sum (s1 - s2)^2', () => {
    const g = (mean: number[], sd: number[]): Gaussian => {
      const n = mean.length;
      const cov = new Float64Array(n * n);
      sd.forEach((s, i) => (cov[i * n + i] = s * s));
      return { dim: n, count: 100, mean: Float64Array.from(mean), cov };
    };
    const d = frechetDistance(g([0, 1, 2], [1, 2, 3]), g([1, 1, 0], [2, 2, 1]));
    expect(d).toBeCloseTo(1 + 0 + 4 + (1 + 0 + 4), 9);
  });

  it('rejects mismatched feature sizes and too few samples', () => {
    expect(() => fitGaussian(new Float32Array(4), 1, 4)).toThrow(/at least 2/);
    const a = fitGaussian(samples(10, 2, 1), 10, 2);
    const b = fitGaussian(samples(10, 3, 1), 10, 3);
    expect(() => frechetDistance(a, b)).toThrow(/feature sizes differ/);
  });
});

describe('classifier scores', () => {
  it('score is 1 for identical predictions and k for confident, balanced ones', () => {
    const k = 4;
    const uniform = new Float32Array(8 * k).fill(1 / k);
    expect(classifierScore(uniform, k)).toBeCloseTo(1, 6);
    const confident = new Float32Array(8 * k);
    for (let i = 0; i < 8; i++) confident[i * k + (i % k)] = 1;
    expect(classifierScore(confident, k)).toBeCloseTo(k, 6);
    const collapsed = new Float32Array(8 * k);
    for (let i = 0; i < 8; i++) collapsed[i * k] = 1;
    expect(classifierScore(collapsed, k)).toBeCloseTo(1, 6);
    expect(classHistogram(collapsed, k)).toEqual([8, 0, 0, 0]);
    expect(classAccuracy(confident, k, Uint8Array.from({ length: 8 }, (_, i) => i % k))).toBe(1);
    expect(classAccuracy(confident, k, new Uint8Array(8))).toBe(0.25);
  });
});

describe('VAE likelihood bounds (Burda et al. 2016)', () => {
  // A tiny fixed "VAE": 2-d latent, 6 pixels, decoder p = sigmoid(W z + b), encoder mean/logvar linear in x.
  const W = [0.9, -0.4, 0.3, 0.8, -0.7, 0.2, 0.5, 0.5, -0.2, -0.9, 0.6, 0.1];
  const f: VaeFunctions = {
    latentSize: 2,
    pixels: 6,
    async encode(x, n) {
      const mean = new Float32Array(n * 2);
      const logvar = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < 2; d++) {
          let s = 0;
          for (let j = 0; j < 6; j++) s += W[j * 2 + d]! * (x[i * 6 + j]! - 0.5);
          mean[i * 2 + d] = s;
          logvar[i * 2 + d] = -1 + 0.3 * d;
        }
      }
      return { mean, logvar };
    },
    async decode(z, n) {
      const p = new Float32Array(n * 6);
      for (let i = 0; i < n; i++) for (let j = 0; j < 6; j++) p[i * 6 + j] = 1 / (1 + Math.exp(-(W[j * 2]! * z[i * 2]! + W[j * 2 + 1]! * z[i * 2 + 1]! + 0.1 * j)));
      return p;
    },
  };
  const rng = new SeededRandom(9);
  const x = Float32Array.from({ length: 20 * 6 }, () => rng.nextInt(256) / 255);

  it('the IWAE bound is at least the ELBO from the same samples, and tightens with k', async () => {
    const k1 = await importanceWeightedBound(f, x, 20, 1, 5);
    expect(k1.iwae).toBeCloseTo(k1.elbo, 9);
    const k50 = await importanceWeightedBound(f, x, 20, 50, 5);
    const k500 = await importanceWeightedBound(f, x, 20, 500, 5);
    expect(k50.iwae).toBeGreaterThanOrEqual(k50.elbo);
    expect(k500.iwae).toBeGreaterThanOrEqual(k500.elbo);
    expect(k500.iwae).toBeGreaterThan(k1.iwae);
    // The ELBO estimate does not depend on k (up to Monte Carlo noise); the bound does.
    expect(Math.abs(k500.elbo - k50.elbo)).toBeLessThan(0.2);
    const nelbo = await negativeElbo(f, x, 20, 5);
    expect(nelbo.nelbo).toBeCloseTo(nelbo.recon + nelbo.kl, 9);
    expect(Math.abs(nelbo.nelbo + k500.elbo)).toBeLessThan(0.5);
  });

  it('is deterministic for a seed', async () => {
    expect(await importanceWeightedBound(f, x, 5, 30, 7)).toEqual(await importanceWeightedBound(f, x, 5, 30, 7));
  });
});

describe('charts', () => {
  it('ticks are round and cover the range; downsampling keeps the mean', () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(13, 87)).toEqual([20, 40, 60, 80]);
    const pts = Array.from({ length: 1000 }, (_, i) => [i, i % 2] as [number, number]);
    const d = downsample(pts, 100);
    expect(d).toHaveLength(100);
    for (const [, y] of d) expect(y).toBeCloseTo(0.5, 6);
  });

  it('draws series, references and escapes text', () => {
    const svg = lineChart([{ name: 'a<b', points: [[0, 1], [1, 2]] }], { title: 'T & U', xLabel: 'epoch', references: [{ name: 'floor', y: 0.5 }] });
    expect(svg).toContain('<polyline');
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('T &amp; U');
    expect(svg).toContain('stroke-dasharray');
    expect(lineChart([], { title: 'empty', xLabel: 'x' })).toContain('no data');
  });
});
