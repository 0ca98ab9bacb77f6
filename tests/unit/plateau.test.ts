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

  it('after a resume, waits for a window of new epochs before judging', () => {
    // emoji-dcgan's R1 run: flat over epochs 60-98, resumed at 98 with the learning rate back up and a window of 30.
    const flat = [...Array(30).fill(3.57), ...Array(30).fill(3.44)];
    expect(plateauReached(flat, 0.05, 30)).toBeCloseTo((3.57 - 3.44) / 3.57, 12); // judged on the old window: stop
    expect(plateauReached([...flat, 3.45], 0.05, 30, 1)).toBeNull(); // one epoch since the resume: go on
    expect(plateauReached([...flat, ...Array(29).fill(3.3)], 0.05, 30, 29)).toBeNull();
    expect(plateauReached([...flat, ...Array(30).fill(3.3)], 0.05, 30, 30)).toBeCloseTo((3.44 - 3.3) / 3.44, 12); // a whole new window, 4% better: stop
    expect(plateauReached([...flat, ...Array(30).fill(2.9)], 0.05, 30, 30)).toBeNull(); // 16% better: go on
  });
});
