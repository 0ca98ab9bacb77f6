import { describe, expect, it } from 'vitest';
import { plateauReached } from '../../trainer/eval/epoch-eval.js';

describe('the plateau rule (--until-plateau, --plateau-patience)', () => {
  it('with a window of 1 compares the last epoch with the one before', () => {
    expect(plateauReached([100], 0.05, 1)).toBeNull();
    expect(plateauReached([100, 90], 0.05, 1)).toBeNull();
    expect(plateauReached([100, 96], 0.05, 1)).toBeCloseTo(0.04, 12);
    expect(plateauReached([100, 110], 0.05, 1)).toBeCloseTo(-0.1, 12);
  });

  it('with a wider window compares the best of the last N epochs with the best of the N before', () => {
    // The emoji DCGAN's per-epoch FCD (N = 2000) over epochs 45-54: noisy, but still falling.
    const fcds = [19.56, 17.41, 17.07, 22.49, 22.06, 16.31, 13.81, 15.93, 14.2, 18.25];
    expect(plateauReached(fcds, 0.05, 1)).not.toBeNull(); // 18.25 after 14.2: a window of 1 stops at noise
    expect(plateauReached(fcds, 0.05, 5)).toBeNull(); // 13.81 against 17.07: 19% better, go on
    expect(plateauReached(fcds.slice(0, 9), 0.05, 4)).toBeNull(); // needs 8 epochs; 13.81 vs 17.07
    const flat = [...fcds, 14.1, 13.9, 15.0, 14.4, 13.95];
    expect(plateauReached(flat, 0.05, 5)).toBeCloseTo((13.81 - 13.9) / 13.81, 12); // no better than 13.81: stop
  });

  it('waits until there are two windows of epochs', () => {
    expect(plateauReached([50, 50, 50, 50, 50], 0.05, 3)).toBeNull();
    expect(plateauReached([50, 50, 50, 50, 50, 50], 0.05, 3)).toBe(0);
  });
});
