/** The DCGAN at any size: stages and channels follow the image, 28x28 stays what it was, and colour trains. */
import { describe, expect, it } from 'vitest';
import { tf } from '../../trainer/backend/tf.js';
import { selectBackend } from '../../trainer/backend/select.js';
import { buildDiscriminator, buildGenerator, dcgan, dcganDefaults, dcganStages } from '../../trainer/families/dcgan.js';
import { traceShapes } from '../../trainer/nn/layers.js';
import { SeededRandom } from '../../shared/rng.js';

const img = (side: number, channels: 1 | 3 = 3) => ({ width: side, height: side, channels });

describe('DCGAN sizes', () => {
  it.each([
    [16, 4, 2],
    [28, 7, 2],
    [32, 4, 3],
    [48, 3, 4],
    [64, 4, 4],
    [128, 4, 5],
  ])('%i pixels: starts at side %i, then %i stride-2 stages', (side, start, stages) => {
    expect(dcganStages(img(side))).toEqual({ height: start, width: start, stages });
    const g = buildGenerator({ ...dcganDefaults, baseChannels: 64 }, img(side));
    expect(traceShapes(g).output).toEqual([side, side, 3]);
    const d = buildDiscriminator({ ...dcganDefaults, baseChannels: 64 }, img(side));
    expect(traceShapes(d).output).toEqual([1]);
  });

  it('channels halve per stage from the base width, and D mirrors G', () => {
    const g = buildGenerator({ ...dcganDefaults, baseChannels: 256 }, img(32));
    expect(g.layers.filter((l) => l.kind === 'conv2dTranspose').map((l) => (l as { filters: number }).filters)).toEqual([128, 64, 3]);
    expect(g.layers[0]).toEqual({ kind: 'dense', units: 4 * 4 * 256 });
    const d = buildDiscriminator({ ...dcganDefaults, baseChannels: 256 }, img(32));
    expect(d.layers.filter((l) => l.kind === 'conv2d').map((l) => (l as { filters: number }).filters)).toEqual([64, 128, 256]);
  });

  it('28x28 with the defaults is the first round architecture (G 128-64, D 64-128), so old configs still load', () => {
    const legacy = { ...dcganDefaults, generatorChannels: [128, 64], discriminatorChannels: [64, 128] };
    expect(buildGenerator(dcganDefaults, img(28, 1))).toEqual(buildGenerator(legacy, img(28, 1)));
    expect(buildDiscriminator(dcganDefaults, img(28, 1))).toEqual(buildDiscriminator(legacy, img(28, 1)));
    expect(() => buildGenerator(legacy, img(32))).toThrow(/generatorChannels has 2 entries, but a 32x32 image needs 3 stages/);
    expect(() => dcganStages({ width: 27, height: 27, channels: 1 })).toThrow(/even image sides/);
  });

  it('a 16x16 colour DCGAN trains a step and leaks no tensors', async () => {
    await selectBackend('wasm', 1);
    const rng = new SeededRandom(3);
    const model = dcgan.create({ ...dcganDefaults, latentSize: 8, baseChannels: 16 }, { image: img(16), classCount: 0, ema: 0.9 }, rng);
    const batch = () => ({ images: tf.randomUniform([8, 16, 16, 3], -1, 1) as tf.Tensor4D, labels: new Uint8Array(8) });
    await model.step(batch, rng); // Adam creates its moment variables on the first step
    const before = tf.memory().numTensors;
    const losses = await model.step(batch, rng);
    expect(Number.isFinite(losses['d']!) && Number.isFinite(losses['g']!)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(model.networks)).toEqual(['generator', 'discriminator', 'generatorEma']);
    const out = model.sample(new Float32Array(2 * 8), 2);
    expect(out.shape).toEqual([2, 16, 16, 3]);
    out.dispose();
    for (const n of Object.values(model.networks)) n.dispose();
  });
});
