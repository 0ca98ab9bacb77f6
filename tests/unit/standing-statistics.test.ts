/**
 * Standing statistics for the EMA generator (Brock et al. 2019, appendix C.1): its batch norms' running averages
 * are measured on the average's own outputs, not copied from G. Network.standingStatistics computes the mean of the
 * batch statistics; a model's settle() touches only the average, deterministically, and leaves training alone; and
 * every checkpoint (so every export) carries the settled statistics.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { FAMILIES } from '../../trainer/families/index.js';
import { STANDING_BATCHES } from '../../trainer/families/adversarial.js';
import { Network } from '../../trainer/nn/network.js';
import { loadCheckpoint } from '../../trainer/run/checkpoint.js';
import { familyContext, restoreRun, type RunMeta } from '../../trainer/run/run-state.js';
import type { TrainingModel } from '../../trainer/families/family.js';
import { SeededRandom } from '../../shared/rng.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { tempDir } from '../helpers/tmp.js';
import { TINY_NETWORKS, tinyRun } from '../helpers/tiny-run.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const image = { width: 16, height: 16, channels: 3 as const };
const tiny = TINY_NETWORKS;

async function values(net: Network, role: string): Promise<number[][]> {
  const names = net.params.filter((p) => p.name.endsWith(`.${role}`)).map((p) => p.name);
  return Promise.all(names.map(async (n) => Array.from((await net.variables.get(n)!.data()) as Float32Array)));
}

function dispose(model: TrainingModel): void {
  for (const net of Object.values(model.networks)) net.dispose();
  for (const opt of Object.values(model.optimizers)) opt.dispose();
}

describe('Network.standingStatistics', () => {
  it('sets the running mean and variance to the mean of the batch statistics over the passes, leaking nothing', async () => {
    const net = new Network({ name: 'bn', inputShape: [2], init: 'dcgan-normal', layers: [{ kind: 'batchNorm', momentum: 0.9, epsilon: 1e-5 }] }, new SeededRandom(1));
    const batches = [[[1, 10], [3, 30]], [[5, -2], [9, 2]], [[0, 0], [2, 4]]];
    const before = tf.memory().numTensors;
    net.standingStatistics(3, (p) => ({ x: tf.tensor2d(batches[p]!) }));
    expect(tf.memory().numTensors).toBe(before);
    // Per batch, channel 0: means 2, 7, 1 and (population) variances 1, 4, 1; channel 1: means 20, 0, 2, variances 100, 4, 4.
    const [mean] = await values(net, 'movingMean');
    const [variance] = await values(net, 'movingVariance');
    expect(mean![0]).toBeCloseTo(10 / 3, 5);
    expect(mean![1]).toBeCloseTo(22 / 3, 5);
    expect(variance![0]).toBeCloseTo(2, 5);
    expect(variance![1]).toBeCloseTo(36, 4);
    net.dispose();
  });
});

describe('settle(): the EMA generator gets its own statistics', () => {
  const dcgan = (ema: number) => FAMILIES['dcgan']!.create({ ...FAMILIES['dcgan']!.defaults, ...tiny }, { image, classCount: 0, ema }, new SeededRandom(3));
  const batch = () => ({ images: tf.randomUniform([4, 16, 16, 3], -1, 1, 'float32', 5) as tf.Tensor4D, labels: new Uint8Array(4) });
  const noLabels = (n: number) => new Uint8Array(n);

  it('changes only the average, the same way every time, and training never reads it', async () => {
    const plain = dcgan(0.9);
    const settled = dcgan(0.9);
    const lossesPlain: number[] = [];
    const lossesSettled: number[] = [];
    const rngs = [new SeededRandom(9), new SeededRandom(9)];
    for (let i = 0; i < 3; i++) {
      lossesPlain.push(...Object.values(await plain.step(batch, rngs[0]!)));
      lossesSettled.push(...Object.values(await settled.step(batch, rngs[1]!)));
      const leaked = tf.memory().numTensors;
      settled.settle!(noLabels);
      expect(tf.memory().numTensors).toBe(leaked);
    }
    expect(lossesSettled).toEqual(lossesPlain);
    const g = settled.networks['generator']!;
    const average = settled.networks['generatorEma']!;
    expect(await values(g, 'movingMean')).toEqual(await values(plain.networks['generator']!, 'movingMean'));
    const own = await values(average, 'movingMean');
    // Copied from G before settle(); the average's own afterwards, and the same on a second call.
    expect(own).not.toEqual(await values(g, 'movingMean'));
    settled.settle!(noLabels);
    expect(await values(average, 'movingMean')).toEqual(own);
    expect(await values(average, 'movingVariance')).not.toEqual(await values(g, 'movingVariance'));
    dispose(plain);
    dispose(settled);
  });

  it('is absent without EMA, and asks a conditional model for the classes of every standing batch of 64', () => {
    const model = dcgan(0);
    expect(model.settle).toBeUndefined();
    dispose(model);
    const cgan = FAMILIES['cgan']!.create({ ...FAMILIES['cgan']!.defaults, ...tiny }, { image, classCount: 2, ema: 0.9 }, new SeededRandom(3));
    const asked: number[] = [];
    cgan.settle!((n) => (asked.push(n), new Uint8Array(n).map((_, i) => i % 2)));
    expect(asked).toEqual(new Array(STANDING_BATCHES).fill(64));
    dispose(cgan);
  });

  it("a run's checkpoint carries the settled statistics, so the export does", async () => {
    const { train } = await import('../../trainer/train.js');
    const folder = await makeImageFolder({ classes: ['a', 'b'], perClass: 6, broken: false });
    const run = join(tempDir('standing'), 'run');
    await train(tinyRun('dcgan', folder.dir, run, { steps: 3, ema: 0.9 }), () => {});
    const ckpt = (await loadCheckpoint<RunMeta>(run))!;
    const model = FAMILIES['dcgan']!.create(ckpt.meta.config as never, familyContext(ckpt.meta), new SeededRandom(1));
    await restoreRun(model, ckpt, true);
    const saved = await values(model.networks['generatorEma']!, 'movingVariance');
    expect(saved).not.toEqual(await values(model.networks['generator']!, 'movingVariance'));
    model.settle!(noLabels);
    const again = await values(model.networks['generatorEma']!, 'movingVariance');
    saved.forEach((layer, i) => layer.forEach((v, j) => expect(again[i]![j]).toBeCloseTo(v, 6)));
    dispose(model);
  });
});
