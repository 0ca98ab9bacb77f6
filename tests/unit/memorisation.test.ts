/** The memorisation check tells copies from new points: features built by hand with known distances. */
import { describe, expect, it } from 'vitest';
import { memorisation } from '../../trainer/eval/memorisation.js';
import { meanByClass } from '../../trainer/eval/scores.js';
import { SeededRandom } from '../../shared/rng.js';

describe('memorisation', () => {
  const rng = new SeededRandom(4);
  const dim = 8;
  const m = 200;
  const train = Float32Array.from({ length: m * dim }, () => rng.nextNormal());

  it('copies of training points are all closer than any training pair, and their nearest is the original', () => {
    const n = 50;
    const copies = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) copies[i * dim + d] = train[(i * 3) * dim + d]! + 1e-4 * rng.nextNormal();
    const r = memorisation(copies, n, train, m, dim);
    expect(r.closerThanClosestTrainPairs).toBe(1);
    expect(r.medianDistanceRatio).toBeLessThan(0.01);
    expect([...r.nearest]).toEqual(Array.from({ length: n }, (_, i) => i * 3));
  });

  it('fresh draws from the same distribution sit at the data spacing, not closer', () => {
    const n = 200;
    const fresh = Float32Array.from({ length: n * dim }, () => rng.nextNormal());
    const r = memorisation(fresh, n, train, m, dim);
    expect(r.closerThanClosestTrainPairs).toBeLessThan(0.05);
    expect(r.closerThanMedianTrainPair).toBeGreaterThan(0.25);
    expect(r.closerThanMedianTrainPair).toBeLessThan(0.75);
    expect(r.medianDistanceRatio).toBeGreaterThan(0.8);
    expect(r.medianDistanceRatio).toBeLessThan(1.25);
  });

  it('flags each copied sample, so a class of copies stands out beside a class of fresh draws', () => {
    // Samples 0-19 "asked for" class 0 are copies; 20-39, class 1, are fresh draws.
    const n = 40;
    const samples = Float32Array.from({ length: n * dim }, (_, j) => (j < 20 * dim ? train[j]! + 1e-4 * rng.nextNormal() : rng.nextNormal()));
    const r = memorisation(samples, n, train, m, dim);
    expect(r.copied.reduce((a, b) => a + b, 0) / n).toBe(r.closerThanClosestTrainPairs);
    const labels = Uint8Array.from({ length: n }, (_, i) => (i < 20 ? 0 : 1));
    const [copies, fresh, absent] = meanByClass(r.copied, labels, 3);
    expect(copies).toBe(1);
    expect(fresh!).toBeLessThan(0.2);
    expect(absent).toBeNull();
  });
});
