/**
 * The trainer's closed-form gradients (batch norm, LeakyReLU) against tfjs's automatic differentiation of the
 * textbook forward formulas, on the wasm backend the trainer uses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { batchNormTraining, type BatchStatistics } from '../../trainer/nn/batch-norm.js';
import { leakyRelu } from '../../trainer/nn/leaky-relu.js';
import { SeededRandom } from '../../shared/rng.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

function random(rng: SeededRandom, shape: number[], offset = 0, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => offset + scale * rng.nextNormal()), shape);
}

async function expectClose(actual: tf.Tensor, expected: tf.Tensor, tolerance: number): Promise<void> {
  expect(actual.shape).toEqual(expected.shape);
  const a = await actual.data();
  const e = await expected.data();
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < e.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i]! - e[i]!));
    maxRef = Math.max(maxRef, Math.abs(e[i]!));
  }
  expect(maxDiff / Math.max(maxRef, 1e-12)).toBeLessThanOrEqual(tolerance);
}

/** Ioffe & Szegedy's Algorithm 1 as plain ops, differentiated by tfjs. */
function referenceBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, a) => a));
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
}

describe('closed-form gradients', () => {
  const shapes = [[8, 5, 5, 6], [16, 12], [3, 7, 4, 2]];

  it.each(shapes)('batch norm: output and gradients match the differentiated formula for %o', async (...shape) => {
    const rng = new SeededRandom(shape.length * 31 + shape[0]!);
    const c = shape[shape.length - 1]!;
    // An offset mean and a spread other than 1, so that centring and scaling both matter.
    const x = random(rng, shape, 0.7, 2.5);
    const gamma = random(rng, [c], 1, 0.3);
    const beta = random(rng, [c]);
    const weights = random(rng, shape); // a loss that weighs every output differently
    const loss = (bn: typeof referenceBatchNorm) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(a, g, b, 1e-5), weights));
    const ours = tf.grads(loss(batchNormTraining))([x, gamma, beta]);
    const reference = tf.grads(loss(referenceBatchNorm))([x, gamma, beta]);
    for (let i = 0; i < 3; i++) await expectClose(ours[i]!, reference[i]!, 2e-5);
    await expectClose(batchNormTraining(x, gamma, beta, 1e-5), referenceBatchNorm(x, gamma, beta, 1e-5), 1e-5);
    tf.dispose([x, gamma, beta, weights, ...ours, ...reference]);
  });

  it('batch norm hands the batch statistics to its caller, and leaks no tensors', async () => {
    const rng = new SeededRandom(5);
    const x = random(rng, [6, 3, 3, 4], -1, 3);
    const gamma = random(rng, [4], 1, 0.1);
    const beta = random(rng, [4]);
    const expected = tf.moments(x, [0, 1, 2]);
    const before = tf.memory().numTensors;
    let seen: { mean: number[]; variance: number[] } | undefined;
    const onStatistics = (s: BatchStatistics) => {
      seen = { mean: Array.from(s.mean.dataSync()), variance: Array.from(s.variance.dataSync()) };
    };
    for (let i = 0; i < 2; i++) {
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(batchNormTraining(a, g, b, 1e-3, onStatistics))))([x, gamma, beta]);
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before);
    const mean = Array.from(await expected.mean.data());
    const variance = Array.from(await expected.variance.data());
    seen!.mean.forEach((m, i) => expect(m).toBeCloseTo(mean[i]!, 5));
    seen!.variance.forEach((v, i) => expect(v).toBeCloseTo(variance[i]!, 4));
    tf.dispose([x, gamma, beta, expected.mean, expected.variance]);
  });

  it('LeakyReLU: output and gradient match tfjs, at zero too', async () => {
    const rng = new SeededRandom(9);
    const x = tf.concat([random(rng, [200]), tf.zeros([3])]);
    const weights = random(rng, [203]);
    for (const alpha of [0.2, 0.01]) {
      const [ours] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(leakyRelu(a, alpha), weights)))([x]);
      const [reference] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, alpha), weights)))([x]);
      await expectClose(ours!, reference!, 1e-7);
      await expectClose(leakyRelu(x, alpha), tf.leakyRelu(x, alpha), 0);
    }
    tf.dispose([x, weights]);
  });
});
