/**
 * The Frechet distance between Gaussians fitted to two sets of feature vectors (Heusel et al. 2017, eq. 6):
 * d^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)). The matrix square root's trace is computed as
 * tr((A S2 A)^(1/2)) with A = S1^(1/2), a symmetric positive semi-definite product, so both square roots come
 * from symmetric eigendecompositions (cyclic Jacobi, float64) and no complex arithmetic is needed.
 */

export interface Gaussian {
  dim: number;
  count: number;
  mean: Float64Array;
  /** Row-major dim x dim, unbiased (n - 1). */
  cov: Float64Array;
}

/** Mean and covariance of `count` vectors of size `dim` stored row by row. */
export function fitGaussian(features: Float32Array, count: number, dim: number): Gaussian {
  if (count < 2) throw new Error(`need at least 2 feature vectors to fit a Gaussian, got ${count}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j]! += features[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= count;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) row[j] = features[i * dim + j]! - mean[j]!;
    for (let a = 0; a < dim; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b]! / (count - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { dim, count, mean, cov };
}

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major) of a symmetric matrix, by cyclic Jacobi. */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p]! ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A <- J^T A J on rows/columns p and q; V <- V J.
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]!), vectors: v };
}

/** The symmetric square root of a symmetric positive semi-definite matrix (negative rounding noise clipped to 0). */
export function sqrtPsd(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(0, values[k]!));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k]! * s;
      for (let j = 0; j < n; j++) out[i * n + j]! += vik * vectors[j * n + k]!;
    }
  }
  return out;
}

function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return out;
}

export function frechetDistance(g1: Gaussian, g2: Gaussian): number {
  if (g1.dim !== g2.dim) throw new Error(`feature sizes differ: ${g1.dim} vs ${g2.dim}`);
  const n = g1.dim;
  let meanTerm = 0;
  let traceTerm = 0;
  for (let i = 0; i < n; i++) {
    meanTerm += (g1.mean[i]! - g2.mean[i]!) ** 2;
    traceTerm += g1.cov[i * n + i]! + g2.cov[i * n + i]!;
  }
  const root1 = sqrtPsd(g1.cov, n);
  const product = matMul(matMul(root1, g2.cov, n), root1, n);
  // Symmetrise away rounding before the eigendecomposition.
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) product[i * n + j] = product[j * n + i] = (product[i * n + j]! + product[j * n + i]!) / 2;
  const { values } = symmetricEigen(product, n);
  const crossTrace = values.reduce((s, v) => s + Math.sqrt(Math.max(0, v)), 0);
  return Math.max(0, meanTerm + traceTerm - 2 * crossTrace);
}
