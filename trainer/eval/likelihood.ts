/**
 * VAE likelihood numbers in nats per image, with the training convention: pixels x = byte / 255 in [0, 1] and a
 * Bernoulli decoder, log p(x|z) = sum x log p + (1 - x) log(1 - p) over pixels (p clamped to [1e-7, 1 - 1e-7]:
 * the served decoder outputs probabilities, not logits); for a continuous Bernoulli decoder plus log C(p) per pixel
 * (Loaiza-Ganem & Cunningham 2019; trainer/families/vae.ts).
 *
 * - Negative ELBO (Kingma & Welling 2014, eq. 10): -E_q[log p(x|z)] + KL(q(z|x) || N(0, I)), the KL in closed form,
 *   the expectation from one z per image.
 * - IWAE bound (Burda, Grosse & Salakhutdinov 2016, eq. 8): log p(x) >= log (1/k) sum_i p(x, z_i) / q(z_i|x),
 *   z_i ~ q(z|x). It tightens as k grows and is never looser than the ELBO estimated from the same k samples,
 *   which is reported beside it.
 */
import { SeededRandom } from '../../shared/rng.js';

export interface VaeFunctions {
  latentSize: number;
  pixels: number;
  /** Default 'bernoulli'. */
  likelihood?: 'bernoulli' | 'continuous-bernoulli';
  /** Posterior parameters of n images (0..1 pixels), each [n, latentSize]. */
  encode(x: Float32Array, n: number): Promise<{ mean: Float32Array; logvar: Float32Array }>;
  /** Bernoulli means [n, pixels] of n latents. */
  decode(z: Float32Array, n: number): Promise<Float32Array>;
}

const LOG_2PI = Math.log(2 * Math.PI);
const EPS = 1e-7;

/** log C(p) of the continuous Bernoulli: log(l / tanh(l / 2)) with l = logit(p); 2 + l^2 / 6 near l = 0. */
export function continuousBernoulliLogNormOf(p: number): number {
  const a = Math.abs(Math.log(p / (1 - p)));
  return a < 1e-3 ? Math.log(2 + (a * a) / 6) : Math.log(a / Math.tanh(a / 2));
}

function pixelLogLik(x: Float32Array, xOff: number, p: Float32Array, pOff: number, pixels: number, continuous: boolean): number {
  let s = 0;
  for (let j = 0; j < pixels; j++) {
    const pj = Math.min(1 - EPS, Math.max(EPS, p[pOff + j]!));
    const xj = x[xOff + j]!;
    s += xj * Math.log(pj) + (1 - xj) * Math.log(1 - pj);
    if (continuous) s += continuousBernoulliLogNormOf(pj);
  }
  return s;
}

/** Mean negative ELBO over `n` images, and its two terms. */
export async function negativeElbo(f: VaeFunctions, x: Float32Array, n: number, seed: number, batch = 500): Promise<{ nelbo: number; recon: number; kl: number }> {
  const rng = new SeededRandom(seed);
  const L = f.latentSize;
  let recon = 0;
  let kl = 0;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const xs = x.subarray(s * f.pixels, (s + m) * f.pixels);
    const { mean, logvar } = await f.encode(xs, m);
    const z = new Float32Array(m * L);
    for (let i = 0; i < m * L; i++) z[i] = mean[i]! + Math.exp(0.5 * logvar[i]!) * rng.nextNormal();
    const p = await f.decode(z, m);
    for (let i = 0; i < m; i++) {
      recon -= pixelLogLik(xs, i * f.pixels, p, i * f.pixels, f.pixels, f.likelihood === 'continuous-bernoulli');
      for (let d = 0; d < L; d++) kl += -0.5 * (1 + logvar[i * L + d]! - mean[i * L + d]! ** 2 - Math.exp(logvar[i * L + d]!));
    }
  }
  return { nelbo: (recon + kl) / n, recon: recon / n, kl: kl / n };
}

/** Mean IWAE bound log p(x) >= ... (k samples per image) and the k-sample ELBO estimate, over `n` images. */
export async function importanceWeightedBound(f: VaeFunctions, x: Float32Array, n: number, k: number, seed: number): Promise<{ iwae: number; elbo: number }> {
  const rng = new SeededRandom(seed);
  const L = f.latentSize;
  let iwaeSum = 0;
  let elboSum = 0;
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * f.pixels, (i + 1) * f.pixels);
    const { mean, logvar } = await f.encode(xi, 1);
    const z = new Float32Array(k * L);
    const logw = new Float64Array(k);
    for (let s = 0; s < k; s++) {
      let logPrior = 0;
      let logQ = 0;
      for (let d = 0; d < L; d++) {
        const eps = rng.nextNormal();
        const zd = mean[d]! + Math.exp(0.5 * logvar[d]!) * eps;
        z[s * L + d] = zd;
        logPrior += -0.5 * (LOG_2PI + zd * zd);
        logQ += -0.5 * (LOG_2PI + logvar[d]! + eps * eps);
      }
      logw[s] = logPrior - logQ;
    }
    const p = await f.decode(z, k);
    let max = -Infinity;
    for (let s = 0; s < k; s++) {
      logw[s]! += pixelLogLik(xi, 0, p, s * f.pixels, f.pixels, f.likelihood === 'continuous-bernoulli');
      max = Math.max(max, logw[s]!);
      elboSum += logw[s]! / k;
    }
    let sum = 0;
    for (let s = 0; s < k; s++) sum += Math.exp(logw[s]! - max);
    iwaeSum += max + Math.log(sum / k);
  }
  return { iwae: iwaeSum / n, elbo: elboSum / n };
}
