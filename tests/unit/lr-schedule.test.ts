/**
 * --lr-decay-epochs: the learning rates fall linearly toward 0 over the last N epochs (run/lr-schedule.ts). The
 * factor is a function of the step alone, the optimizers really use it, and a run that stops and resumes inside the
 * decay computes the same losses as one that does not stop.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { learningRateFactor, learningRateScaler } from '../../trainer/run/lr-schedule.js';
import { loadCheckpoint } from '../../trainer/run/checkpoint.js';
import type { RunMeta } from '../../trainer/run/run-state.js';
import type { TrainOptions } from '../../trainer/cli/options.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { tempDir } from '../helpers/tmp.js';
import { tinyRun } from '../helpers/tiny-run.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('learningRateFactor', () => {
  it('is 1 before the decay, then falls linearly to 1/decaySteps at the last step', () => {
    expect(learningRateFactor(0, 100, 0)).toBe(1);
    expect(learningRateFactor(59, 100, 40)).toBe(1);
    expect(learningRateFactor(60, 100, 40)).toBe(1);
    expect(learningRateFactor(61, 100, 40)).toBeCloseTo(39 / 40, 12);
    expect(learningRateFactor(80, 100, 40)).toBeCloseTo(0.5, 12);
    expect(learningRateFactor(99, 100, 40)).toBeCloseTo(1 / 40, 12);
    expect(learningRateFactor(0, 10, 40)).toBeCloseTo(10 / 40, 12); // a decay longer than the run starts part-way down
  });
});

describe('learningRateScaler', () => {
  it('scales every optimizer from the rate it was created with, and an Adam update shrinks by the factor', async () => {
    const run = async (factor: number) => {
      const w = tf.variable(tf.tensor1d([1, -2, 3]));
      const opt = tf.train.adam(0.1, 0.5, 0.999, 1e-8);
      const scale = learningRateScaler({ opt });
      scale(0.5);
      scale(factor); // from the base rate, not compounded
      opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
      const after = Array.from(await w.data());
      w.dispose();
      opt.dispose();
      return after;
    };
    const full = await run(1);
    const quarter = await run(0.25);
    // Adam's first update is lr times the sign of the gradient (up to epsilon).
    [1, -2, 3].forEach((w0, i) => {
      expect(w0 - full[i]!).toBeCloseTo(0.1 * Math.sign(w0), 5);
      expect(w0 - quarter[i]!).toBeCloseTo(0.025 * Math.sign(w0), 5);
    });
  });
});

describe('a run with --lr-decay-epochs', () => {
  const losses = async (run: string) =>
    (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; d: number; g: number });

  it('changes the steps inside the decay only, can be given on resume, is kept on resume, and resumes to the same losses', async () => {
    const { train } = await import('../../trainer/train.js');
    const folder = await makeImageFolder({ classes: ['a', 'b'], perClass: 6, broken: false });
    // 12 images in batches of 4: 3 steps an epoch, 9 steps; the last 2 epochs (steps 4-9, 1-based) decay.
    const base = (out: string, extra: Partial<TrainOptions>) => tinyRun('dcgan', folder.dir, out, { epochs: 3, ...extra });
    const dir = tempDir('lr-decay');
    const constant = join(dir, 'constant');
    const straight = join(dir, 'straight');
    const resumed = join(dir, 'resumed');
    await train(base(constant, {}), () => {});
    await train(base(straight, { lrDecayEpochs: 2 }), () => {});
    // Steps 1-3 at the full rate, then the decay given on resume: the same schedule as the straight run.
    await train(base(resumed, { epochs: undefined, steps: 3 }), () => {});
    await train(base(resumed, { resume: true, overrides: {}, lrDecayEpochs: 2 }), () => {});
    const [c, s, r] = await Promise.all([losses(constant), losses(straight), losses(resumed)]);
    expect(s).toHaveLength(9);
    // Step 4 is the decay's first (factor 6/6); step 5's D update is the first smaller one, and G's loss of a step
    // is read after D's update: the first 4 losses agree with the constant run, the later ones do not.
    for (let i = 0; i < 4; i++) expect(s[i]!.g).toBe(c[i]!.g);
    for (let i = 4; i < 9; i++) expect(s[i]!.g).not.toBe(c[i]!.g);
    expect(r.map((x) => [x.d, x.g])).toEqual(s.map((x) => [x.d, x.g]));
    // Without the flag a resume keeps the saved schedule: 2 epochs before the new end.
    const lines: string[] = [];
    await train(base(resumed, { resume: true, overrides: {}, epochs: 4 }), (l) => lines.push(l));
    expect((await loadCheckpoint<RunMeta>(resumed))!.meta.lrDecayEpochs).toBe(2);
    expect(lines).toContain('learning rates: constant until step 6, then linearly toward 0 at step 12');
  });
});
