/**
 * The whole path on a user's own images: a folder of real PNG, JPEG, WebP and GIF files in class subfolders (with
 * broken files beside them) -> a few training steps of each family at 16x16 in colour -> export -> the edge app.
 * The manifest says what the data was (size, channels, labels, preprocessing); the edge serves the trainer's grids
 * within one level; uploads of another size are preprocessed as the training images were.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../trainer/train.js';
import { exportRun } from '../../trainer/export.js';
import { createApp } from '../../edge/app.js';
import { decodePng, encodePng } from '../../shared/png.js';
import { latentsForSeed } from '../../shared/latent.js';
import { pixelsToBytes } from '../../shared/pixels.js';
import { ModelRunner } from '../../trainer/eval/model-runner.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { makeImageFolder, pictureRgba, type ImageFolder } from '../helpers/image-folder.js';
import { tempDir } from '../helpers/tmp.js';

let folder: ImageFolder;
const quiet = () => {};

beforeAll(async () => {
  folder = await makeImageFolder({ perClass: 16, width: 48, height: 40 });
});

const tiny = {
  dcgan: { latentSize: 8, baseChannels: 16 },
  cgan: { latentSize: 8, baseChannels: 16 },
  gan: { latentSize: 8, generatorUnits: [16, 16, 32], discriminatorUnits: [32, 16] },
  vae: { latentSize: 4, arch: 'conv', convChannels: [4, 8], likelihood: 'continuous-bernoulli' },
} as const;

async function trainAndServe(model: keyof typeof tiny, extra: Partial<Parameters<typeof train>[0]> = {}) {
  const root = tempDir(`own-${model}`);
  const run = join(root, 'run');
  await train({ model, data: folder.dir, out: run, resume: false, batchSize: 8, seed: 9, backend: 'wasm', checkpointEvery: 100, evalN: 0, steps: 3,
    folder: { imageSize: 16, fit: 'crop', background: [255, 255, 255] }, overrides: { ...tiny[model] }, ...extra }, quiet);
  const out = join(root, `own-${model}`);
  const { manifest } = await exportRun({ run, out, id: `own-${model}` }, quiet);
  return { run, dir: out, manifest, app: createApp({ models: [loadModelDir(out)], runtime: ortNodeRuntime }) };
}

const png = async (res: Response) => {
  expect(res.status, res.status === 200 ? '' : await res.clone().text()).toBe(200);
  return decodePng(new Uint8Array(await res.arrayBuffer()));
};

function expectWithinOneLevel(a: Uint8Array, b: Uint8Array) {
  expect(a.length).toBe(b.length);
  expect(a.every((v, i) => Math.abs(v - b[i]!) <= 1)).toBe(true);
}

describe('own images, in colour, end to end', () => {
  it('dcgan with flips, DiffAugment and EMA: the manifest records the data; the edge serves the trainer grid in RGB', async () => {
    const { run, manifest, app } = await trainAndServe('dcgan', { augment: 'flip', ema: 0.9, diffAugment: ['color', 'translation', 'cutout'] });
    expect(manifest.image).toEqual({ width: 16, height: 16, channels: 3, pixelRange: '-1..1', preprocess: { fit: 'crop', background: '#ffffff' } });
    expect(manifest.training.dataset).toBe(`${folder.dir.split('/').pop()}`);
    // No ruler for this folder: the card says so instead of carrying numbers from another data set's classifier.
    expect(manifest.evaluationNote).toMatch(/^FCD needs a ruler: image-folder-\w+ has none/);
    expect(((await (await app.request('/v1/models/own-dcgan')).json()) as { evaluationNote: string }).evaluationNote).toBe(manifest.evaluationNote);
    const served = await png(await app.request('/v1/models/own-dcgan/grid.png?seed=9&n=64&cols=8'));
    expect(served.channels).toBe(3);
    expectWithinOneLevel(served.data, decodePng(readFileSync(join(run, 'samples', 'final.png'))).data);
  });

  it('cgan: the class labels are the subfolder names, and each trainer row is drawn for its class', async () => {
    const { run, manifest, app } = await trainAndServe('cgan');
    expect(manifest.classes).toEqual({ count: 2, labels: folder.classes });
    const trained = decodePng(readFileSync(join(run, 'samples', 'final.png')));
    expect([trained.width, trained.height, trained.channels]).toEqual([8 * 16, 2 * 16, 3]);
    const served = await png(await app.request('/v1/models/own-cgan/grid.png?seed=9&n=16&cols=8'));
    expectWithinOneLevel(served.data, trained.data);
  });

  it('gan: the MLP generator works at 16x16x3, and what eval measures is what is served', async () => {
    const { run, dir, app } = await trainAndServe('gan');
    const served = await png(await app.request('/v1/models/own-gan/grid.png?seed=9&n=64&cols=8'));
    expectWithinOneLevel(served.data, decodePng(readFileSync(join(run, 'samples', 'final.png'))).data);
    // The evaluation's runner gives interleaved RGB, like the PNG (the MLP's outputs differ per channel, so planar
    // order would not pass).
    const runner = await ModelRunner.load(dir);
    const one = pixelsToBytes(await runner.generate(latentsForSeed(9, 1, 8, 'normal'), 1), '-1..1');
    await runner.release();
    const sample = (await png(await app.request('/v1/models/own-gan/sample.png?seed=9'))).data;
    expect(sample.some((v, i) => i % 3 === 0 && Math.abs(v - sample[i + 1]!) > 8)).toBe(true);
    expectWithinOneLevel(one, sample);
  });

  it('vae (convolutional, continuous Bernoulli): a 48x40 RGBA upload is encoded and reconstructed at 16x16x3', async () => {
    const { manifest, app } = await trainAndServe('vae');
    expect(manifest.image.channels).toBe(3);
    const upload = encodePng({ width: 48, height: 40, channels: 4, data: pictureRgba(1, 2, 48, 40) });
    const recon = await png(await app.request('/v1/models/own-vae/reconstruct?scale=2', { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: upload }));
    expect([recon.width, recon.height, recon.channels]).toEqual([32, 32, 3]);
    const enc = await app.request('/v1/models/own-vae/encode', { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: upload });
    expect(((await enc.json()) as { mean: number[] }).mean).toHaveLength(4);
  });
});
