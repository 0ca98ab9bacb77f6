/**
 * `node --import tsx tests/bench/native-conv.ts [--size 32] [--threads 2] [--blocks 4] [--steps 4]`: the wasm
 * trainer's convolutions on onnxruntime-node's native kernels against XNNPACK's (trainer/backend/kernels/), in one
 * process: first each layer of the colour DCGAN (base width 256, batch 64) alone, forward and both gradients, best
 * of 3 blocks of 5 calls each way; then whole training steps on the emoji images, alternating blocks of `--steps`
 * steps with and without them. Prints milliseconds a call and steps/s.
 */
import { parseArgs } from 'node:util';
import { tf } from '../../trainer/backend/tf.js';
import { selectBackend } from '../../trainer/backend/select.js';
import { nativeKernelsInUse, useNativeKernels } from '../../trainer/backend/kernels/register.js';
import { FAMILIES } from '../../trainer/families/index.js';
import type { Family } from '../../trainer/families/family.js';
import { dcganChannels, type DcganConfig } from '../../trainer/families/dcgan.js';
import { loadFolderDataset } from '../../trainer/data/folder.js';
import { batchStream } from './batches.js';
import { SeededRandom } from '../../shared/rng.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '32' }, threads: { type: 'string', default: '2' }, blocks: { type: 'string', default: '4' }, steps: { type: 'string', default: '4' } } });
const [side, threads, blocks, steps] = [values.size, values.threads, values.blocks, values.steps].map(Number) as [number, number, number, number];
const BATCH = 64;

const backend = await selectBackend('wasm', threads, undefined, 'native');
const native = nativeKernelsInUse()!;
console.log(backend.description);

/** Best of 3 blocks of 5 calls, in ms, with the convolutions on `on` (null: XNNPACK). */
function bestMs(on: typeof native | null, f: () => tf.Tensor): number {
  useNativeKernels(on);
  f().dispose();
  let best = Infinity;
  for (let block = 0; block < 3; block++) {
    const t = performance.now();
    for (let i = 0; i < 5; i++) f().dispose();
    best = Math.min(best, (performance.now() - t) / 5);
  }
  return best;
}

const family = FAMILIES['dcgan'] as Family<object>;
const config = { ...family.defaults, baseChannels: 256 } as DcganConfig;
const data = await loadFolderDataset('data/emoji', { imageSize: side, fit: 'crop', background: [255, 255, 255] });
const { discriminator } = dcganChannels(config, data.shape);
let inChannels: number = data.shape.channels;
let inSide = side;
console.log(`D's layers, batch ${BATCH}, kernel 4, stride 2 (G's transposed convolutions are the same three computations): ms a call, XNNPACK -> native`);
for (const outChannels of discriminator) {
  const [x, w, dy] = [tf.randomNormal([BATCH, inSide, inSide, inChannels]) as tf.Tensor4D, tf.randomNormal([4, 4, inChannels, outChannels], 0, 0.02) as tf.Tensor4D, tf.randomNormal([BATCH, inSide / 2, inSide / 2, outChannels]) as tf.Tensor4D];
  const calls = {
    forward: () => tf.conv2d(x, w, 2, 'same'),
    'input gradient': () => tf.conv2dTranspose(dy, w, x.shape, 2, 'same'),
    'filter gradient': () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor,
  };
  const cells = Object.entries(calls).map(([name, f]) => `${name} ${bestMs(null, f).toFixed(1)} -> ${bestMs(native, f).toFixed(1)}`);
  console.log(`  ${inChannels} -> ${outChannels} at ${inSide}x${inSide}: ${cells.join(', ')}`);
  tf.dispose([x, w, dy]);
  [inChannels, inSide] = [outChannels, inSide / 2];
}

const model = family.create(config, { image: data.shape, classCount: 0 }, new SeededRandom(1));
const nextBatch = batchStream(data, family, BATCH);
const rng = new SeededRandom(2);
for (const on of [native, null]) {
  useNativeKernels(on);
  for (let i = 0; i < 2; i++) await model.step(nextBatch, rng); // warm-up: sessions, first allocations
}
console.log(`training steps, ${side}x${side} RGB DCGAN, batch ${BATCH}, ${threads} thread(s), blocks of ${steps} alternating:`);
for (let block = 0; block < blocks; block++) {
  const measured: string[] = [];
  for (const on of [native, null]) {
    useNativeKernels(on);
    const t = performance.now();
    for (let i = 0; i < steps; i++) await model.step(nextBatch, rng);
    measured.push(`${on ? 'native' : 'XNNPACK'} ${(steps / ((performance.now() - t) / 1000)).toFixed(2)}`);
  }
  console.log(`  block ${block}: ${measured.join(' steps/s, ')} steps/s`);
}
useNativeKernels(native);
