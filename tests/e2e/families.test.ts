/**
 * A tiny train -> export (with its parity check) -> serve run for every family, on a slice of data: the edge
 * serves what the trainer drew, and each family's extra graph (VAE encoder, cGAN label input) works end to end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { train } from '../../trainer/train.js';
import { exportRun } from '../../trainer/export.js';
import { createApp } from '../../edge/app.js';
import { decodePng, encodePng } from '../../shared/png.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { fashionMnistDir } from '../helpers/idx-files.js';
import { tempDir } from '../helpers/tmp.js';

const dataDir = fashionMnistDir();
const quiet = () => {};

const tinyConfigs = {
  vae: { latentSize: 2, hiddenUnits: 32 },
  gan: { latentSize: 8, generatorUnits: [16, 16, 32], discriminatorUnits: [32, 16] },
  cgan: { latentSize: 8, generatorChannels: [16, 8], discriminatorChannels: [8, 16] },
};

async function trainAndServe(model: keyof typeof tinyConfigs, extra: Record<string, unknown> = {}) {
  const root = tempDir(`e2e-${model}`);
  const run = join(root, 'run');
  await train({ model, data: dataDir, out: run, resume: false, batchSize: 32, seed: 5, backend: 'wasm', limit: 256, checkpointEvery: 100, evalN: 0, steps: 4, overrides: { ...tinyConfigs[model], ...extra } }, quiet);
  const out = join(root, `tiny-${model}`);
  const { manifest } = await exportRun({ run, out, id: `tiny-${model}` }, quiet);
  const app = createApp({ models: [loadModelDir(out)], runtime: ortNodeRuntime });
  return { run, manifest, app };
}

const png = async (res: Response) => {
  expect(res.status).toBe(200);
  return decodePng(new Uint8Array(await res.arrayBuffer()));
};

describe('every family end to end', () => {
  it('vae (2-d latent): decoder serves the trainer grid, encoder round-trips a real image', async () => {
    const { run, manifest, app } = await trainAndServe('vae');
    expect(manifest.image.pixelRange).toBe('0..1');
    expect(Object.keys(manifest.graphs).sort()).toEqual(['decoder', 'encoder']);
    const served = await png(await app.request('/v1/models/tiny-vae/grid.png?seed=5&n=64&cols=8'));
    const trained = decodePng(readFileSync(join(run, 'samples', 'final.png')));
    expect(served.data.every((v, i) => Math.abs(v - trained.data[i]!) <= 1)).toBe(true);
    const recon = decodePng(readFileSync(join(run, 'samples', 'recon-final.png')));
    expect([recon.width, recon.height]).toEqual([8 * 28, 8 * 28]);
    // The trainer's reconstruction grid holds 32 real images then their reconstructions: the edge must agree.
    const first = new Uint8Array(28 * 28);
    for (let y = 0; y < 28; y++) first.set(recon.data.subarray(y * 224, y * 224 + 28), y * 28);
    const edgeRecon = await png(await app.request('/v1/models/tiny-vae/reconstruct', { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: encodePng({ width: 28, height: 28, channels: 1, data: first }) }));
    for (let y = 0; y < 28; y++) {
      const row = recon.data.subarray((4 * 28 + y) * 224, (4 * 28 + y) * 224 + 28);
      expect(Array.from(edgeRecon.data.subarray(y * 28, y * 28 + 28)).every((v, i) => Math.abs(v - row[i]!) <= 1)).toBe(true);
    }
  });

  it('vae with the convolutional architecture exports and serves', async () => {
    const { app } = await trainAndServe('vae', { arch: 'conv', convChannels: [4, 8] });
    await png(await app.request('/v1/models/tiny-vae/sample.png?seed=1'));
  });

  it('gan: the MLP generator serves the trainer grid', async () => {
    const { run, app } = await trainAndServe('gan');
    const served = await png(await app.request('/v1/models/tiny-gan/grid.png?seed=5&n=64&cols=8'));
    const trained = decodePng(readFileSync(join(run, 'samples', 'final.png')));
    expect(served.data.every((v, i) => Math.abs(v - trained.data[i]!) <= 1)).toBe(true);
  });

  it('cgan: row r of the trainer grid is class r, and the edge draws the same for that class', async () => {
    const { run, manifest, app } = await trainAndServe('cgan');
    expect(manifest.classes.count).toBe(10);
    expect(manifest.graphs.generator!.inputs.map((i) => [i.name, i.dtype])).toEqual([['z', 'float32'], ['label', 'int64']]);
    const trained = decodePng(readFileSync(join(run, 'samples', 'final.png')));
    expect([trained.width, trained.height]).toEqual([8 * 28, 10 * 28]); // one row per class
    // Trainer grid: 80 images, 8 columns, image i has class floor(i / 8). Image 8 (row 1, column 0) is class 1,
    // drawn from the 9th latent of the run's seed: generate it through the API from that latent.
    const { latents } = (await (await app.request('/v1/models/tiny-cgan/latents?seed=5&n=9')).json()) as { latents: number[][] };
    const one = await png(await app.request('/v1/models/tiny-cgan/generate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ latents: [latents[8]], classes: [1] }) }));
    for (let y = 0; y < 28; y++) {
      const row = trained.data.subarray((28 + y) * 224, (28 + y) * 224 + 28);
      expect(Array.from(one.data.subarray(y * 28, y * 28 + 28)).every((v, i) => Math.abs(v - row[i]!) <= 1)).toBe(true);
    }
  });
});
