/**
 * The whole spine on a tiny DCGAN: train a few steps on a slice of data, resume exactly, export with the
 * parity check, and serve with createApp: the edge's grid for a seed is the trainer's grid for that seed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../trainer/train.js';
import { exportRun } from '../../trainer/export.js';
import { loadCheckpoint } from '../../trainer/run/checkpoint.js';
import type { RunMeta } from '../../trainer/run/run-state.js';
import type { TrainOptions } from '../../trainer/cli/options.js';
import { createApp } from '../../edge/app.js';
import { decodePng } from '../../shared/png.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { fashionMnistDir } from '../helpers/idx-files.js';
import { tempDir } from '../helpers/tmp.js';

// Real Fashion-MNIST when the Debian package is installed (CI installs it), synthetic IDX files otherwise.
const dataDir = fashionMnistDir();

const tiny = (out: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  model: 'dcgan', data: dataDir, out, resume: false, batchSize: 32, seed: 11, backend: 'wasm', limit: 256, checkpointEvery: 2, evalN: 0,
  overrides: { generatorChannels: [32, 16], discriminatorChannels: [16, 32], latentSize: 16 },
  ...extra,
});
const quiet = () => {};

describe('tiny DCGAN: train, resume, export, serve', () => {
  const runDir = join(tempDir('run'), 'tiny');
  beforeAll(async () => {
    await train(tiny(runDir, { steps: 6 }), quiet);
  });

  it('writes checkpoints, metrics and sample grids', async () => {
    const ckpt = await loadCheckpoint<RunMeta>(runDir);
    expect(ckpt!.meta.step).toBe(6);
    expect(ckpt!.meta.batchesSeen).toBe(6);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const m of metrics) expect(Number.isFinite(m.d) && Number.isFinite(m.g)).toBe(true);
    const grid = decodePng(readFileSync(join(runDir, 'samples', 'final.png')));
    expect([grid.width, grid.height]).toEqual([8 * 28, 8 * 28]);
  });

  it('resumes exactly: 3 steps + resume to 6 equals 6 straight steps, bit for bit', async () => {
    const split = join(tempDir('run'), 'split');
    await train(tiny(split, { steps: 3 }), quiet);
    await train(tiny(split, { steps: 6, resume: true, overrides: {} }), quiet);
    const a = (await loadCheckpoint<RunMeta>(runDir))!;
    const b = (await loadCheckpoint<RunMeta>(split))!;
    expect(b.meta.step).toBe(6);
    expect(b.meta.rng).toEqual(a.meta.rng);
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (const [name, t] of a.tensors) expect(b.tensors.get(name)!.data, name).toEqual(t.data);
  });

  it('refuses to overwrite a run without --resume', async () => {
    await expect(train(tiny(runDir, { steps: 6 }), quiet)).rejects.toThrow(/already holds a checkpoint/);
  });

  it('exports a graph that passes parity and serves the trainer grid through createApp', async () => {
    const outDir = join(tempDir('export'), 'tiny-dcgan');
    const { manifest } = await exportRun({ run: runDir, out: outDir, id: 'tiny-dcgan' }, quiet);
    expect(manifest.latent).toEqual({ size: 16, distribution: 'normal' });
    expect(manifest.training.steps).toBe(6);
    expect(manifest.image).toEqual({ width: 28, height: 28, channels: 1, pixelRange: '-1..1' });

    const app = createApp({ models: [loadModelDir(outDir)], runtime: ortNodeRuntime });
    const res = await app.request('/v1/models/tiny-dcgan/grid.png?seed=11&n=64&cols=8');
    expect(res.status).toBe(200);
    const served = decodePng(new Uint8Array(await res.arrayBuffer()));
    // The trainer's final grid used the run's seed (11), 64 images, 8 columns: the same latents, pixel rule and
    // tiling, so the two may differ only by float rounding between tfjs and onnxruntime (at most 1 level).
    const trained = decodePng(readFileSync(join(runDir, 'samples', 'final.png')));
    expect([served.width, served.height]).toEqual([trained.width, trained.height]);
    let maxDiff = 0;
    for (let i = 0; i < trained.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(served.data[i]! - trained.data[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });
});
