/** The evaluation's mathematics on cases with known answers: Frechet distance, scores, IWAE vs ELBO, charts. */
import { describe, expect, it } from 'vitest';
import { fitGaussian, frechetDistance, sqrtPsd, symmetricEigen, type Gaussian } from '../../trainer/eval/frechet.js';
import { classAccuracy, classAccuracyByClass, classHistogram, classifierScore } from '../../trainer/eval/scores.js';
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

  it('matches the 2x2 closed form for non-commuting covariances: tr sqrt(S1 S2), not tr(sqrt S1 sqrt S2)', () => {
    // S1 S2 is similar to a PSD matrix: its eigenvalues l are real and >= 0, and tr sqrt(S1 S2) = sum sqrt(l),
    // with l from the 2x2 characteristic polynomial. Independent of frechet.ts's eigendecomposition.
    const S1 = [5, 2, 2, 1];
    const S2 = [1, 0, 0, 6];
    const P = [S1[0]! * S2[0]! + S1[1]! * S2[2]!, S1[0]! * S2[1]! + S1[1]! * S2[3]!, S1[2]! * S2[0]! + S1[3]! * S2[2]!, S1[2]! * S2[1]! + S1[3]! * S2[3]!];
    const tr = P[0]! + P[3]!;
    const det = P[0]! * P[3]! - P[1]! * P[2]!;
    const disc = Math.sqrt(tr * tr - 4 * det);
    const trSqrt = Math.sqrt((tr + disc) / 2) + Math.sqrt((tr - disc) / 2);
    const mu1 = [0.5, -1];
    const mu2 = [-0.25, 0.75];
    const expected = (mu1[0]! - mu2[0]!) ** 2 + (mu1[1]! - mu2[1]!) ** 2 + S1[0]! + S1[3]! + S2[0]! + S2[3]! - 2 * trSqrt;
    const g = (mean: number[], cov: number[]): Gaussian => ({ dim: 2, count: 100, mean: Float64Array.from(mean), cov: Float64Array.from(cov) });
    const d = frechetDistance(g(mu1, S1), g(mu2, S2));
    expect(d).toBeCloseTo(expected, 9);
    // The commuting shortcut gives another number here, so the test tells the two apart.
    const r1 = sqrtPsd(Float64Array.from(S1), 2);
    const r2 = sqrtPsd(Float64Array.from(S2), 2);
    const wrong = expected + 2 * trSqrt - 2 * (r1[0]! * r2[0]! + r1[1]! * r2[2]! + r1[2]! * r2[1]! + r1[3]! * r2[3]!);
    expect(Math.abs(wrong - expected)).toBeGreaterThan(0.25); // 0.268 for these matrices (numpy)
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

  it('splits class accuracy by the class asked for, null for a class never asked', () => {
    const k = 3;
    // Predictions 0 0 1 2 2 1 for labels 0 0 0 2 2 2: class 0 two of three, class 1 never asked, class 2 two of three.
    const probs = new Float32Array(6 * k);
    [0, 0, 1, 2, 2, 1].forEach((p, i) => (probs[i * k + p] = 0.9));
    const labels = Uint8Array.from([0, 0, 0, 2, 2, 2]);
    expect(classAccuracyByClass(probs, k, labels)).toEqual([2 / 3, null, 2 / 3]);
    expect(classAccuracy(probs, k, labels)).toBeCloseTo(4 / 6, 12);
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

  /**
   * log p(x) of the toy model by quadrature: a 2-d grid over [-7, 7]^2 with step 0.05 of p(x|z) N(z; 0, I).
   * An independent computation of what the IWAE bound bounds.
   */
  async function logMarginal(xi: Float32Array): Promise<number> {
    const h = 0.05;
    const side = Math.round(14 / h) + 1;
    const z = new Float32Array(side * side * 2);
    for (let a = 0; a < side; a++) for (let b = 0; b < side; b++) z.set([-7 + a * h, -7 + b * h], (a * side + b) * 2);
    const p = await f.decode(z, side * side);
    let max = -Infinity;
    const terms = new Float64Array(side * side);
    for (let g = 0; g < side * side; g++) {
      let s = -Math.log(2 * Math.PI) - 0.5 * (z[g * 2]! ** 2 + z[g * 2 + 1]! ** 2);
      for (let j = 0; j < 6; j++) s += xi[j]! * Math.log(p[g * 6 + j]!) + (1 - xi[j]!) * Math.log(1 - p[g * 6 + j]!);
      terms[g] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (const s of terms) sum += Math.exp(s - max);
    return max + Math.log(sum * h * h);
  }

  it('the IWAE bound converges to log p(x) computed by quadrature, from below; the ELBO sits below both', async () => {
    let exact = 0;
    for (let i = 0; i < 20; i++) exact += (await logMarginal(x.subarray(i * 6, (i + 1) * 6))) / 20;
    const k1 = await importanceWeightedBound(f, x, 20, 1, 5);
    const k1000 = await importanceWeightedBound(f, x, 20, 1000, 5);
    // k = 1000 is within 0.02 nats of the truth, and no higher than it (up to Monte Carlo noise).
    expect(Math.abs(k1000.iwae - exact)).toBeLessThan(0.02);
    expect(k1000.iwae).toBeLessThan(exact + 0.01);
    // The ELBO (one sample per image) is a strictly looser bound for this encoder, by a clear margin.
    expect(k1.iwae).toBeLessThan(exact - 0.05);
  });

  it('the negative ELBO matches its definition computed by quadrature under q, term by term', async () => {
    // 50 copies of the 20 images: one Monte Carlo sample per image then averages to within ~0.03 nats.
    const copies = 50;
    const xs = new Float32Array(20 * copies * 6);
    for (let c = 0; c < copies; c++) xs.set(x, c * 120);
    const got = await negativeElbo(f, xs, 20 * copies, 11);
    let recon = 0;
    let kl = 0;
    const { mean, logvar } = await f.encode(x, 20);
    for (let i = 0; i < 20; i++) {
      // E_q[-log p(x|z)] on a grid over q (a diagonal Gaussian), and KL(q || N(0, I)) by quadrature too.
      const h = 0.02;
      let e = 0;
      let klq = 0;
      let mass = 0;
      const sd = [0, 1].map((d) => Math.exp(0.5 * logvar[i * 2 + d]!));
      for (let a = -6; a <= 6; a += h) {
        for (let b = -6; b <= 6; b += h) {
          const z = [mean[i * 2]! + sd[0]! * a, mean[i * 2 + 1]! + sd[1]! * b];
          const q = Math.exp(-0.5 * (a * a + b * b)) / (2 * Math.PI) * h * h; // q-mass of the cell (in standardised units)
          const p = await f.decode(Float32Array.from(z), 1);
          let ll = 0;
          for (let j = 0; j < 6; j++) ll += x[i * 6 + j]! * Math.log(p[j]!) + (1 - x[i * 6 + j]!) * Math.log(1 - p[j]!);
          const logq = -Math.log(2 * Math.PI) - Math.log(sd[0]! * sd[1]!) - 0.5 * (a * a + b * b);
          const logPrior = -Math.log(2 * Math.PI) - 0.5 * (z[0]! ** 2 + z[1]! ** 2);
          e -= q * ll;
          klq += q * (logq - logPrior);
          mass += q;
        }
      }
      recon += e / mass / 20;
      kl += klq / mass / 20;
    }
    expect(Math.abs(got.kl - kl)).toBeLessThan(1e-3); // closed form in the code, quadrature here
    expect(Math.abs(got.recon - recon)).toBeLessThan(0.05); // Monte Carlo in the code
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
