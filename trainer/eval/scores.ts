/** Scores of generated images read through the classifier's softmax. */

/**
 * Classifier score, the Inception score of Salimans et al. (2016) with the domain classifier:
 * exp(E_x KL(p(y|x) || p(y))), p(y) the mean prediction. 1 for collapsed or unrecognisable samples, up to the
 * class count for confident, evenly spread ones.
 */
export function classifierScore(probs: Float32Array, k: number): number {
  const n = probs.length / k;
  const marginal = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) marginal[j]! += probs[i * k + j]! / n;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const p = probs[i * k + j]!;
      if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[j]!));
    }
  }
  return Math.exp(kl / n);
}

/** The argmax of each row. */
export function predictions(probs: Float32Array, k: number): Uint8Array {
  const n = probs.length / k;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j]! > probs[i * k + best]!) best = j;
    out[i] = best;
  }
  return out;
}

/** How many images the classifier puts in each class: mode collapse shows as a lopsided histogram. */
export function classHistogram(probs: Float32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const p of predictions(probs, k)) counts[p]!++;
  return counts;
}

/** Fraction of images whose predicted class is the one asked for. */
export function classAccuracy(probs: Float32Array, k: number, labels: Uint8Array): number {
  const pred = predictions(probs, k);
  let correct = 0;
  pred.forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
  return correct / pred.length;
}

/** The mean of a 0/1 flag over the images of each class (null: no image of it). */
export function meanByClass(flags: Uint8Array, labels: Uint8Array, k: number): (number | null)[] {
  const sum = new Array<number>(k).fill(0);
  const count = new Array<number>(k).fill(0);
  labels.forEach((c, i) => {
    count[c]!++;
    sum[c]! += flags[i]!;
  });
  return count.map((n, c) => (n === 0 ? null : sum[c]! / n));
}

/**
 * Per class: the fraction of images labelled c whose predicted class is c, or null where no image is labelled c.
 * The overall classAccuracy is these weighted by each class's count; a large class can hide small ones that fail.
 */
export function classAccuracyByClass(probs: Float32Array, k: number, labels: Uint8Array): (number | null)[] {
  const pred = predictions(probs, k);
  return meanByClass(pred.map((p, i) => (p === labels[i] ? 1 : 0)), labels, k);
}
