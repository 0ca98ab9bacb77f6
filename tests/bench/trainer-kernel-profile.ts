/**
 * `node --import tsx tests/bench/trainer-kernel-profile.ts [--size 32] [--threads 2] [--steps 5] [--backend wasm]
 * [--conv-kernels auto|native|wasm]`:
 * where a colour DCGAN step (base width 256, batch 64, the emoji images) spends its time, per tfjs kernel and per
 * kernel and input shapes (tf.profile over two steps, halved), then the steps/s of `--steps` unprofiled steps. A
 * kernel's time includes the kernels it calls (the wasm training kernels call Conv2D, Transpose, BatchMatMul).
 */
import { parseArgs } from 'node:util';
import { tf } from '../../trainer/backend/tf.js';
import { BACKEND_CHOICES, CONV_KERNEL_CHOICES, selectBackend, type BackendChoice, type ConvKernelChoice } from '../../trainer/backend/select.js';
import { FAMILIES } from '../../trainer/families/index.js';
import type { Family } from '../../trainer/families/family.js';
import { loadFolderDataset } from '../../trainer/data/folder.js';
import { batchStream } from './batches.js';
import { SeededRandom } from '../../shared/rng.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '32' }, threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '5' }, backend: { type: 'string', default: 'wasm' }, 'conv-kernels': { type: 'string', default: 'auto' } } });
const side = Number(values.size);
const threads = Number(values.threads);
const steps = Number(values.steps);
if (!(BACKEND_CHOICES as readonly string[]).includes(values.backend!)) throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
if (!(CONV_KERNEL_CHOICES as readonly string[]).includes(values['conv-kernels']!)) throw new Error(`--conv-kernels must be one of ${CONV_KERNEL_CHOICES.join(', ')}`);
const BATCH = 64;

const backend = await selectBackend(values.backend as BackendChoice, threads, undefined, values['conv-kernels'] as ConvKernelChoice);
const data = await loadFolderDataset('data/emoji', { imageSize: side, fit: 'crop', background: [255, 255, 255] });
const family = FAMILIES['dcgan'] as Family<object>;
const model = family.create({ ...family.defaults, baseChannels: 256 }, { image: data.shape, classCount: data.classNames.length }, new SeededRandom(1));
const nextBatch = batchStream(data, family, BATCH);
const rng = new SeededRandom(2);
for (let i = 0; i < 2; i++) await model.step(nextBatch, rng); // warm-up

const byKernel = new Map<string, { ms: number; calls: number }>();
const byShape = new Map<string, { ms: number; calls: number }>();
const add = (map: Map<string, { ms: number; calls: number }>, key: string, ms: number) => {
  const e = map.get(key) ?? { ms: 0, calls: 0 };
  e.ms += ms / 2;
  e.calls += 0.5;
  map.set(key, e);
};
for (let s = 0; s < 2; s++) {
  const info = await tf.profile(async () => {
    await model.step(nextBatch, rng);
  });
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    if (typeof ms !== 'number') continue;
    add(byKernel, k.name, ms);
    add(byShape, `${k.name} ${JSON.stringify(k.inputShapes)}`, ms);
  }
}
const top = (map: Map<string, { ms: number; calls: number }>, n: number) => [...map].sort((a, b) => b[1].ms - a[1].ms).slice(0, n);
console.log(`${backend.description}, ${side}x${side}, batch ${BATCH}: ms per step (nested kernels counted in their callers too)`);
for (const [name, e] of top(byKernel, 16)) console.log(`${e.ms.toFixed(1).padStart(8)} ${String(e.calls).padStart(5)}  ${name}`);
console.log('by input shapes:');
for (const [name, e] of top(byShape, 24)) console.log(`${e.ms.toFixed(1).padStart(8)} ${String(e.calls).padStart(5)}  ${name}`);
const t = performance.now();
for (let i = 0; i < steps; i++) await model.step(nextBatch, rng);
console.log(`${steps} steps unprofiled: ${(steps / ((performance.now() - t) / 1000)).toFixed(2)} steps/s`);
