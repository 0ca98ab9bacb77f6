/**
 * Linear learning-rate decay over the last part of a run, as CycleGAN trains (Zhu et al. 2017, section 7.1: "keep
 * the same learning rate for the first 100 epochs and linearly decay the rate to zero over the next 100"). With a
 * moving average of G (EMA) the samples already average out G's step-to-step noise; the decay makes the steps
 * themselves smaller, so G settles into a point rather than circling one (measured in docs/training.md).
 */
import type { tf } from '../backend/tf.js';

/**
 * The factor on every learning rate for step `step` (0-based, the step about to run) of a run of `totalSteps`, when
 * the last `decaySteps` steps decay: 1 before them, then linearly down to 1/decaySteps for the last step.
 * A function of the step alone, so a resumed run continues the same schedule.
 */
export function learningRateFactor(step: number, totalSteps: number, decaySteps: number): number {
  if (decaySteps <= 0) return 1;
  return Math.max(0, Math.min(1, (totalSteps - step) / decaySteps));
}

/**
 * Scales the learning rates of `optimizers` (tfjs's Adam, SGD, ... all read `learningRate` at every update) by a
 * factor of their rates when this was called: the base rates are those the family created them with.
 */
export function learningRateScaler(optimizers: Record<string, tf.Optimizer>): (factor: number) => void {
  const opts = Object.values(optimizers) as unknown as { learningRate: number }[];
  for (const o of opts) if (typeof o.learningRate !== 'number') throw new Error('--lr-decay-epochs: an optimizer without a learning rate');
  const base = opts.map((o) => o.learningRate);
  return (factor) => opts.forEach((o, i) => (o.learningRate = base[i]! * factor));
}
