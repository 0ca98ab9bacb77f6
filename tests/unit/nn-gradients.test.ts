/**
 * The trainer's closed-form gradients (batch norm, LeakyReLU, tanh) against tfjs's automatic differentiation of the
 * textbook forward formulas, on the wasm backend the trainer uses: with the native kernels (onnxruntime-node, batch
 * norm and its activation as one graph) and with the wasm kernels alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { batchNormTraining, type BatchStatistics, type Slope } from '../../trainer/nn/batch-norm.js';
import { nativeKernelsInUse, useNativeKernels } from '../../trainer/backend/kernels/register.js';
import type { NativeKernels } from '../../trainer/backend/kernels/native-kernels.js';
import { leakyRelu } from '../../trainer/nn/leaky-relu.js';
import { tanh } from '../../trainer/nn/tanh.js';
import { Network } from '../../trainer/nn/network.js';
import type { NetworkSpec } from '../../trainer/nn/layers.js';
import { SeededRandom } from '../../shared/rng.js';

let native: NativeKernels;
beforeAll(async () => {
  await selectBackend('wasm', 2, undefined, 'native');
  native = nativeKernelsInUse()!;
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

const activations: [string, Slope, (t: tf.Tensor) => tf.Tensor][] = [
  ['none', null, (t) => t],
  ['ReLU', 0, (t) => tf.relu(t)],
  ['LeakyReLU 0.2', 0.2, (t) => tf.leakyRelu(t, 0.2)],
];

describe.each(['native', 'wasm'])('closed-form gradients, %s kernels', (kernels) => {
  beforeAll(() => useNativeKernels(kernels === 'native' ? native : null));
  const shapes = [[8, 5, 5, 6], [16, 12], [3, 7, 4, 2]];
  const cases = shapes.flatMap((shape) => activations.map(([name, slope, act]) => [shape, name, slope, act] as const));

  it.each(cases)('batch norm: output and gradients match the differentiated formula for %o, then %s', async (shape, _name, slope, act) => {
    const rng = new SeededRandom(shape.length * 31 + shape[0]!);
    const c = shape[shape.length - 1]!;
    // An offset mean and a spread other than 1, so that centring and scaling both matter.
    const x = random(rng, shape, 0.7, 2.5);
    const gamma = random(rng, [c], 1, 0.3);
    const beta = random(rng, [c]);
    const weights = random(rng, shape); // a loss that weighs every output differently
    const ourBn = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => batchNormTraining(a, g, b, 1e-5, undefined, slope);
    const referenceBn = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => act(referenceBatchNorm(a, g, b, 1e-5));
    const loss = (bn: typeof ourBn) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(a, g, b), weights));
    const sessions = native.sessions;
    const ours = tf.grads(loss(ourBn))([x, gamma, beta]);
    // The native path ran: a forward and a gradient session for this shape and activation.
    if (kernels === 'native') expect(native.sessions).toBe(Math.min(64, sessions + 2));
    const reference = tf.grads(loss(referenceBn))([x, gamma, beta]);
    for (let i = 0; i < 3; i++) await expectClose(ours[i]!, reference[i]!, 2e-5);
    await expectClose(ourBn(x, gamma, beta), referenceBn(x, gamma, beta), 1e-5);
    tf.dispose([x, gamma, beta, weights, ...ours, ...reference]);
  });

  it('a bias before a batch norm is left out in training: the same output and gradients, a zero gradient for it, and running averages that include it', async () => {
    const spec: NetworkSpec = {
      name: 'bias-before-norm',
      inputShape: [6, 6, 3],
      layers: [{ kind: 'conv2d', filters: 5, kernel: 3, stride: 2 }, { kind: 'batchNorm', momentum: 0.5, epsilon: 1e-5 }, { kind: 'leakyRelu', alpha: 0.2 }, { kind: 'flatten' }, { kind: 'dense', units: 1 }],
      init: 'dcgan-normal',
    };
    const net = new Network(spec, new SeededRandom(3));
    const rng = new SeededRandom(4);
    const bias = net.variables.get('0.bias')!;
    bias.assign(random(rng, [5], 0.5, 2)); // far from its initial zeros, so that leaving it out would show
    const x = random(rng, [4, 6, 6, 3]);
    const vars = net.trainableVariables();
    // The reference: the textbook layers with the bias added, differentiated by tfjs.
    const reference = () => {
      const conv = tf.add(tf.conv2d(x as tf.Tensor4D, net.variables.get('0.kernel')! as tf.Tensor4D, 2, 'same'), bias);
      const h = tf.leakyRelu(referenceBatchNorm(conv, net.variables.get('1.gamma')!, net.variables.get('1.beta')!, 1e-5), 0.2);
      return tf.sum(tf.add(tf.matMul(tf.reshape(h, [4, -1]), net.variables.get('4.kernel')! as tf.Tensor2D), net.variables.get('4.bias')!)) as tf.Scalar;
    };
    const expected = tf.variableGrads(reference, vars);
    const expectedMean = tf.tidy(() => tf.mul(tf.mean(tf.add(tf.conv2d(x as tf.Tensor4D, net.variables.get('0.kernel')! as tf.Tensor4D, 2, 'same'), bias), [0, 1, 2]), 0.5));
    const before = tf.memory().numTensors;
    const ours = tf.variableGrads(() => tf.sum(net.apply(x, { training: true, updateStats: true })) as tf.Scalar, vars);
    await expectClose(ours.value, expected.value, 1e-5);
    // Every trainable variable has its gradient, in the same order (tfjs's Adam keeps its moments by position).
    expect(Object.keys(ours.grads)).toEqual(Object.keys(expected.grads));
    for (const name of Object.keys(expected.grads)) {
      if (name === bias.name) expect(Array.from(await ours.grads[name]!.data())).toEqual([0, 0, 0, 0, 0]);
      else await expectClose(ours.grads[name]!, expected.grads[name]!, 2e-5);
    }
    // The running mean moved from 0 toward the batch mean of conv + bias.
    await expectClose(net.variables.get('1.movingMean')!, expectedMean, 1e-5);
    tf.dispose([ours.value, ...Object.values(ours.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, expected.value, expectedMean, ...Object.values(expected.grads)]);
    net.dispose();
  });

  it('batch norm hands the batch statistics to its caller, and leaks no tensors', async () => {
    for (const slope of [null, 0.2]) await statisticsAndLeaks(slope);
  });
  const statisticsAndLeaks = async (slope: Slope) => {
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
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(batchNormTraining(a, g, b, 1e-3, onStatistics, slope))))([x, gamma, beta]);
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before);
    const mean = Array.from(await expected.mean.data());
    const variance = Array.from(await expected.variance.data());
    seen!.mean.forEach((m, i) => expect(m).toBeCloseTo(mean[i]!, 5));
    seen!.variance.forEach((v, i) => expect(v).toBeCloseTo(variance[i]!, 4));
    tf.dispose([x, gamma, beta, expected.mean, expected.variance]);
  };

  it('tanh: output and gradient match tfjs', async () => {
    const rng = new SeededRandom(11);
    const x = random(rng, [4, 6, 6, 3], 0, 3);
    const weights = random(rng, [4, 6, 6, 3]);
    const sessions = native.sessions;
    const [ours] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tanh(a), weights)))([x]);
    if (kernels === 'native') expect(native.sessions).toBe(Math.min(64, sessions + 1));
    const [reference] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.tanh(a), weights)))([x]);
    await expectClose(ours!, reference!, 1e-6);
    await expectClose(tanh(x), tf.tanh(x), 1e-6);
    tf.dispose([x, weights, ours!, reference!]);
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
