import { describe, expect, it } from 'vitest';
import { referenceLabels } from '../../trainer/eval/measure.js';

const histogram = (labels: Uint8Array, k: number) => Array.from({ length: k }, (_, j) => labels.filter((l) => l === j).length);

describe('the classes a conditional model is asked for when measured', () => {
  it('on a balanced test split: every class in turn, as before', () => {
    const labels = referenceLabels(2000, new Array(10).fill(1000));
    expect(Array.from(labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(histogram(labels, 10)).toEqual(new Array(10).fill(200));
  });

  it("in the test split's proportions, by largest remainders, summing to n", () => {
    // The emoji held-out split (15% of each category).
    const counts = [13, 24, 41, 20, 40, 339, 25, 34, 33];
    const labels = referenceLabels(2000, counts);
    const h = histogram(labels, 9);
    expect(h.reduce((a, b) => a + b, 0)).toBe(2000);
    const total = counts.reduce((a, b) => a + b, 0);
    h.forEach((c, j) => expect(Math.abs(c - (2000 * counts[j]!) / total)).toBeLessThan(1));
    expect(h[5]).toBe(Math.round((2000 * 339) / total));
    // Taken in turn: the first round asks for each class once.
    expect(Array.from(labels.subarray(0, 9))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('leaves out a class the test split lacks', () => {
    expect(histogram(referenceLabels(10, [5, 0, 5]), 3)).toEqual([5, 0, 5]);
  });
});
