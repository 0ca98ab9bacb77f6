/**
 * Issue 29's Check, as a new user meets it: a small generated folder of every PNG and JPEG variant
 * (tests/corpus/image-variants.ts) in two classes, with a truncated file beside them -> a few training steps of a
 * conv VAE and a cGAN -> export -> the edge app (createApp with onnxruntime-node) -> every variant encoded, and the
 * messages of the issue's table asserted word for word.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../trainer/train.js';
import { exportRun } from '../../trainer/export.js';
import { preflightTrain } from '../../trainer/cli/preflight.js';
import { createApp } from '../../edge/app.js';
import { sniffImageType } from '../../shared/decode-image.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { imageVariants, type ImageVariant } from '../corpus/image-variants.js';
import { tempDir } from '../helpers/tmp.js';

const CLASSES = ['actions', 'apps'];
const folderOpts = { imageSize: 16, fit: 'crop' as const, background: [255, 255, 255] as [number, number, number] };
let variants: ImageVariant[];
let data: string;
let app: ReturnType<typeof createApp>;
const logs: string[] = [];

beforeAll(async () => {
  variants = await imageVariants();
  data = tempDir('own-folder');
  for (const cls of CLASSES) {
    mkdirSync(join(data, cls));
    for (const v of variants) writeFileSync(join(data, cls, v.file), v.bytes);
  }
  // A download cut short: the PNG signature and header are there, the image data is not.
  const whole = variants.find((v) => v.file === 'png-rgba-8.png')!.bytes;
  writeFileSync(join(data, 'apps', 'cut-short.png'), whole.subarray(0, Math.floor(whole.length * 0.6)));

  const root = tempDir('own-folder-runs');
  const models = [];
  for (const [model, overrides] of [['vae', { latentSize: 4, arch: 'conv', convChannels: [4, 8] }], ['cgan', { latentSize: 8, baseChannels: 16 }]] as const) {
    const run = join(root, model);
    await train({ model, data, out: run, resume: false, batchSize: 8, seed: 3, backend: 'wasm', checkpointEvery: 100, evalN: 0, steps: 3, folder: folderOpts, overrides: { ...overrides } }, (l) => logs.push(l));
    const out = join(root, `mine-${model}`);
    await exportRun({ run, out, id: `mine-${model}` }, () => {});
    models.push(loadModelDir(out));
  }
  app = createApp({ models, runtime: ortNodeRuntime });
}, 120_000);

const post = (body: Uint8Array, type: string) => app.request('/v1/models/mine-vae/encode', { method: 'POST', headers: { 'Content-Type': type }, body: new Uint8Array(body) });
const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: { message: string } }).error });

describe('a folder of every PNG and JPEG variant, end to end', () => {
  it('trains on every variant of both classes and skips the truncated file, saying so', () => {
    const data = logs.find((l) => l.startsWith('data: decoded'));
    expect(data).toMatch(new RegExp(`^data: decoded ${2 * variants.length} images to 16x16x3 `));
    expect(logs).toContain('data: skipped 1 unreadable file(s): apps/cut-short.png (PNG chunk IDAT is truncated)');
  });

  it('encodes every variant the trainer took', async () => {
    for (const v of variants) {
      const res = await post(v.bytes, sniffImageType(v.bytes)!);
      expect(res.status, `${v.file}: ${res.status === 200 ? '' : await res.clone().text()}`).toBe(200);
      const { mean, logvar } = (await res.json()) as { mean: number[]; logvar: number[] };
      expect([mean.length, logvar.length, mean.every(Number.isFinite)], v.file).toEqual([4, 4, true]);
    }
  });

  it('refuses the truncated file and a too-large image in the words the trainer uses, the same for PNG and JPEG', async () => {
    const cut = variants.find((v) => v.file === 'png-rgba-8.png')!.bytes;
    expect(await errorOf(await post(cut.subarray(0, Math.floor(cut.length * 0.6)), 'image/png'))).toMatchObject({ status: 400, message: 'body is not a usable PNG: PNG chunk IDAT is truncated' });
    const big = { width: 3000, height: 2000, channels: 3 as const, background: '#808080' };
    for (const [type, bytes] of [['image/png', await sharp({ create: big }).png().toBuffer()], ['image/jpeg', await sharp({ create: big }).jpeg().toBuffer()]] as const) {
      const kind = type === 'image/png' ? 'PNG' : 'JPEG';
      expect(await errorOf(await post(new Uint8Array(bytes), type))).toMatchObject({ status: 400, message: `body: ${kind} is 3000 x 2000 = 6000000 pixels, over the limit of 4194304 pixels (2048 x 2048)` });
    }
  });

  it('issue 29 table: class=LABEL works, a wrong one names the range and the labels', async () => {
    const byLabel = await app.request('/v1/models/mine-cgan/sample.png?seed=5&class=apps');
    const byIndex = await app.request('/v1/models/mine-cgan/sample.png?seed=5&class=1');
    expect(byLabel.status).toBe(200);
    expect(new Uint8Array(await byLabel.arrayBuffer())).toEqual(new Uint8Array(await byIndex.arrayBuffer()));
    expect(await errorOf(await app.request('/v1/models/mine-cgan/sample.png?seed=5&class=icons'))).toMatchObject({ status: 400, message: '"class" must be an integer in [0, 1] or a label (actions, apps), got "icons"' });
  });

  it('issue 29 table: the trainer says what is wrong before it loads anything', async () => {
    const loose = tempDir('loose');
    writeFileSync(join(loose, 'a.png'), variants[0]!.bytes);
    await expect(preflightTrain('cgan', {}, loose, folderOpts)).rejects.toThrow(`--model cgan needs labelled data with at least 2 classes (one subfolder per class, or --labels FILE.csv); ${loose} has no class subfolders`);
    await expect(preflightTrain('dcgan', {}, join(loose, 'a.png'), folderOpts)).rejects.toThrow(`--data ${join(loose, 'a.png')} is a file, not a folder`);
    await expect(preflightTrain('dcgan', {}, data, { ...folderOpts, imageSize: 33 })).rejects.toThrow('--image-size 33 does not fit --model dcgan: DCGAN needs even image sides, got 33x33; try --image-size 32 or 34');
    await expect(preflightTrain('dcgan', {}, join(data, 'absent'), folderOpts)).rejects.toThrow(`--data ${join(data, 'absent')}: no such directory`);
    await expect(preflightTrain('dcgan', {}, data, folderOpts, { untilPlateau: 0.05, evalN: 2000 })).rejects.toThrow(`--until-plateau needs a ruler trained on this data set, to measure FCD every epoch: no ruler in rulers/ was trained on ${data}`);
  });
});
