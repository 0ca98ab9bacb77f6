/**
 * The options of a training run on a small generated folder (helpers/image-folder.ts): 16x16 images, batches of 4,
 * seed 1, the wasm backend, no per-epoch evaluation, a checkpoint only at the end, and networks of a few channels.
 * Each test adds what it is about (steps or epochs, a recipe option, resume).
 */
import type { TrainOptions } from '../../trainer/cli/options.js';

export const TINY_NETWORKS = { latentSize: 4, generatorChannels: [8, 4], discriminatorChannels: [4, 8] };

export function tinyRun(model: string, data: string, out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    model, data, out, resume: false, batchSize: 4, seed: 1, backend: 'wasm', checkpointEvery: 100, evalN: 0,
    folder: { imageSize: 16, fit: 'crop', background: [255, 255, 255] }, overrides: TINY_NETWORKS, ...extra,
  };
}
