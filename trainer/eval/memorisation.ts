/**
 * Does a model copy its training set? With few training images (3,781 emoji) a GAN can learn to reproduce them.
 * In the ruler's feature space (the classifier's penultimate layer, as for FCD):
 * - each generated sample's nearest training image (a grid puts them side by side, for a person to judge);
 * - how far training images are from their own nearest other training image: the typical spacing of the data;
 * - the fraction of samples closer to a training image than the median training image is to its nearest neighbour,
 *   and than the closest 1% are: a model that copies puts most samples there; one that generalises, few.
 */

export interface MemorisationReport {
  /** Fraction of samples whose nearest training image is nearer than the median train-to-train nearest distance. */
  closerThanMedianTrainPair: number;
  /** Fraction of samples nearer to a training image than the 1st percentile of train-to-train nearest distances. */
  closerThanClosestTrainPairs: number;
  /** Median nearest-training-image distance of samples, over the median train-to-train one. */
  medianDistanceRatio: number;
  /** For each sample, the index of its nearest training image. */
  nearest: Uint32Array;
  /** For each sample, whether it is nearer than the closest 1% of training pairs (closerThanClosestTrainPairs' count). */
  copied: Uint8Array;
}

/** Squared Euclidean distances' minimum from each row of `a` to the rows of `b` (skipping i == j when `self`). */
function nearestRows(a: Float32Array, na: number, b: Float32Array, nb: number, dim: number, self: boolean): { index: Uint32Array; distance: Float64Array } {
  const index = new Uint32Array(na);
  const distance = new Float64Array(na).fill(Infinity);
  const normsB = new Float64Array(nb);
  for (let j = 0; j < nb; j++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += b[j * dim + d]! ** 2;
    normsB[j] = s;
  }
  for (let i = 0; i < na; i++) {
    let normA = 0;
    for (let d = 0; d < dim; d++) normA += a[i * dim + d]! ** 2;
    for (let j = 0; j < nb; j++) {
      if (self && i === j) continue;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += a[i * dim + d]! * b[j * dim + d]!;
      const dist = normA + normsB[j]! - 2 * dot;
      if (dist < distance[i]!) {
        distance[i] = dist;
        index[i] = j;
      }
    }
  }
  for (let i = 0; i < na; i++) distance[i] = Math.sqrt(Math.max(0, distance[i]!));
  return { index, distance };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/** The report for `n` sample features against `m` training features, both [rows, dim]. */
export function memorisation(samples: Float32Array, n: number, train: Float32Array, m: number, dim: number): MemorisationReport {
  const trainPairs = nearestRows(train, m, train, m, dim, true).distance.slice().sort();
  const toTrain = nearestRows(samples, n, train, m, dim, false);
  const median = quantile(trainPairs, 0.5);
  const closest = quantile(trainPairs, 0.01);
  const sampleSorted = toTrain.distance.slice().sort();
  return {
    closerThanMedianTrainPair: toTrain.distance.filter((d) => d < median).length / n,
    closerThanClosestTrainPairs: toTrain.distance.filter((d) => d < closest).length / n,
    medianDistanceRatio: quantile(sampleSorted, 0.5) / median,
    nearest: toTrain.index,
    copied: Uint8Array.from(toTrain.distance, (d) => (d < closest ? 1 : 0)),
  };
}
