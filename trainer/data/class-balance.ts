/**
 * Which images an epoch visits when `--class-balance P` re-weights the classes of a labelled data set: class c is
 * drawn in proportion to count_c^P. P = 1 is the data's own proportions (train.ts then keeps its plain shuffle),
 * P = 0 every class equally often, P = 0.5 square-root sampling (Mahajan et al. 2018, "Exploring the limits of
 * weakly supervised pretraining", section 3.3), which lifts small classes without repeating them as often as P = 0.
 *
 * Why: the emoji folder is 60% People & Body (2,261 images) and 2% Activities (85). With the data's proportions a
 * cGAN's G is asked for Activities in about 1 of 45 images, and its samples of the small categories stay blobs.
 * A re-weighted epoch repeats small classes' images (each visited about count_c^P / count_c times as often), so
 * memorisation must be checked (`npm run eval` reports it). For an unconditional model it changes the
 * distribution learned, and with it what FCD against the data's proportions measures.
 */
import { SeededRandom } from '../../shared/rng.js';

/** How many images of each of `classes` classes `labels` holds. */
export function countClasses(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!] = (counts[labels[i]!] ?? 0) + 1;
  return counts;
}

/** The line `npm run train` and `npm run classifier` log for P below 1: each class's slots per 1000 images. */
export function classBalanceLine(labels: Uint8Array, classNames: readonly string[], power: number): string {
  const shares = classQuotas(countClasses(labels, classNames.length), power, 1000);
  return `class balance ${power}: per 1000 images ${classNames.map((n, c) => `${n} ${shares[c]}`).join(', ')}`;
}

/** How many of `length` slots each class gets: largest remainders of length * w_c / sum(w), w_c = count_c^power. */
export function classQuotas(counts: readonly number[], power: number, length: number): number[] {
  const weights = counts.map((c) => (c > 0 ? c ** power : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (length * w) / total);
  const quotas = exact.map(Math.floor);
  let left = length - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => [e - Math.floor(e), c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of byRemainder) {
    if (left-- <= 0) break;
    quotas[c]!++;
  }
  return quotas;
}

/**
 * `length` image indices for one epoch: each class's quota taken from a seeded shuffle of its images (cycled, with
 * a new shuffle per pass, when the quota exceeds the class), then all of them shuffled. A function of `seed` alone.
 */
export function balancedOrder(labels: Uint8Array, classes: number, power: number, length: number, seed: number): Uint32Array {
  const members: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((label, i) => members[label]!.push(i));
  const quotas = classQuotas(members.map((m) => m.length), power, length);
  const rng = new SeededRandom(seed);
  const picks = new Uint32Array(length);
  let at = 0;
  members.forEach((images, c) => {
    for (let taken = 0; taken < quotas[c]!; ) {
      const perm = rng.permutation(images.length);
      for (let j = 0; j < perm.length && taken < quotas[c]!; j++, taken++) picks[at++] = images[perm[j]!]!;
    }
  });
  const shuffle = rng.permutation(length);
  return Uint32Array.from(shuffle, (j) => picks[j]!);
}

/**
 * A stream of classes drawn as training draws them: class c with probability proportional to count_c^power. The
 * moving average's standing batch-norm statistics (train.ts's settle) take their classes from it, so the average
 * is normalised over the mix of classes its weights were trained on. Drawn by `rng` alone.
 */
export function classSampler(labels: Uint8Array, classes: number, power: number, rng: SeededRandom): (n: number) => Uint8Array {
  const weights = countClasses(labels, classes).map((c) => (c > 0 ? c ** power : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  const cumulative = weights.map((w) => (sum += w / total));
  return (n) =>
    Uint8Array.from({ length: n }, () => {
      const u = rng.nextFloat();
      const c = cumulative.findIndex((edge) => u < edge);
      return c === -1 ? cumulative.findLastIndex((_, j) => weights[j]! > 0) : c;
    });
}
