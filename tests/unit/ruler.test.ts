/**
 * The right ruler, or none (issue 29): a run is measured only by a ruler trained on its own data, found by the
 * data's fingerprint, whatever the folder is called; --until-plateau without one is an error before training.
 */
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFingerprint } from '../../trainer/data/fingerprint.js';
import { DEFAULT_DATA_DIR } from '../../trainer/data/idx.js';
import { findRuler } from '../../trainer/eval/ruler.js';
import { preflightTrain } from '../../trainer/cli/preflight.js';
import { encodePng } from '../../shared/png.js';
import { tempDir } from '../helpers/tmp.js';
import { writeSyntheticSplit } from '../helpers/idx-files.js';
import { Classifier } from '../../trainer/eval/classifier-runtime.js';
import { buildReference, measureSamples } from '../../trainer/eval/measure.js';
import { upscaleNearest } from '../../shared/grid.js';

/** Icons in class subfolders: `classes` x 3 PNGs of 32x32 RGB. */
function icons(classes: string[], root = tempDir('icons')): string {
  for (const [c, name] of classes.entries()) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(join(root, name, `${i}.png`), encodePng({ width: 32, height: 32, channels: 3, data: new Uint8Array(32 * 32 * 3).fill(40 * c + i) }));
  }
  return root;
}

const emojiCard = JSON.parse(readFileSync('rulers/emoji/classifier.json', 'utf8'));
const folder = { fit: 'crop' as const, background: [255, 255, 255] as [number, number, number] };

describe('data fingerprints', () => {
  it('keep through a rename, change with the files', async () => {
    const dir = icons(['apps', 'actions']);
    const a = await dataFingerprint(dir);
    expect(a).toMatchObject({ files: 6, classNames: ['actions', 'apps'] });
    const moved = join(tempDir('moved'), 'emoji');
    renameSync(dir, moved);
    expect((await dataFingerprint(moved)).sha256).toBe(a.sha256);
    writeFileSync(join(moved, 'apps', 'new.png'), encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) }));
    expect((await dataFingerprint(moved)).sha256).not.toBe(a.sha256);
  });

  it('the committed Fashion-MNIST ruler is keyed to the Debian data set (dataset-fashion-mnist)', async () => {
    const card = JSON.parse(readFileSync('rulers/fashion-mnist/classifier.json', 'utf8'));
    expect((await dataFingerprint(DEFAULT_DATA_DIR)).sha256).toBe(card.trainedOn.sha256);
    const found = await findRuler(DEFAULT_DATA_DIR, { width: 28, height: 28, channels: 1 });
    expect(found.ok && found.dir).toBe(join('rulers', 'fashion-mnist'));
    const other = await findRuler(DEFAULT_DATA_DIR, { width: 32, height: 32, channels: 1 });
    expect(other.ok ? '' : other.reason).toBe("rulers/fashion-mnist was trained on this data at 28x28x1, but this run's images are 32x32x1 (a run is measured at the ruler's size, or at a whole fraction of it)");
    const half = await findRuler(DEFAULT_DATA_DIR, { width: 14, height: 14, channels: 1 });
    expect(half.ok && half.dir).toBe(join('rulers', 'fashion-mnist'));
  });
});

describe('a folder called emoji that is not the emoji data', () => {
  it('finds no ruler, and the emoji ruler given by hand is refused with what each was trained on', async () => {
    const root = tempDir('linked');
    const dir = join(root, 'emoji');
    symlinkSync(icons(['apps', 'actions', 'places', 'devices', 'mimetypes']), dir);
    const none = await findRuler(dir, { width: 64, height: 64, channels: 3 });
    expect(none.ok ? '' : none.reason).toBe(`no ruler in rulers/ was trained on ${dir} (15 files, 5 classes (actions, apps, devices, mimetypes, places)); train one: npm run classifier -- --data ${dir} --export rulers/NAME`);
    const byHand = await findRuler(dir, { width: 64, height: 64, channels: 3 }, 'rulers/emoji');
    expect(byHand.ok ? '' : byHand.reason).toBe(
      `rulers/emoji was trained on other data (${emojiCard.trainedOn.files} files, 9 classes (Activities, Animals & Nature, Flags, Food & Drink, Objects, ...)), not on ${dir} (15 files, 5 classes (actions, apps, devices, mimetypes, places)): its FCD would mean nothing; train one: npm run classifier -- --data ${dir} --export rulers/NAME`,
    );
  });

  it('--until-plateau is an error before training; without it the run goes on (evaluation off, said in the log)', async () => {
    const dir = icons(['apps', 'actions']);
    await expect(preflightTrain('dcgan', {}, dir, folder, { untilPlateau: 0.05, evalN: 2000 })).rejects.toThrow(`--until-plateau needs a ruler trained on this data set, to measure FCD every epoch: no ruler in rulers/ was trained on ${dir}`);
    await expect(preflightTrain('dcgan', {}, dir, folder, { untilPlateau: 0.05, evalN: 0 })).rejects.toThrow('--until-plateau stops on the per-epoch FCD, which --eval-n 0 turns off');
    await expect(preflightTrain('dcgan', {}, dir, folder, { evalN: 2000 })).resolves.toBeUndefined();
    const unlabelled = tempDir('loose');
    writeFileSync(join(unlabelled, 'a.png'), encodePng({ width: 32, height: 32, channels: 1, data: new Uint8Array(1024) }));
    await expect(preflightTrain('dcgan', {}, unlabelled, folder, { untilPlateau: 0.05, evalN: 2000 })).rejects.toThrow(`train a self-supervised one (no labels needed): npm run classifier -- --data ${unlabelled} --rotation --export rulers/NAME`);
  });
});

describe('npm run eval against other data', () => {
  it('the reference images must be the ruler\'s own data', async () => {
    const other = tempDir('other-idx');
    writeSyntheticSplit(other, 'train', 64);
    const classifier = await Classifier.load('rulers/fashion-mnist');
    try {
      await expect(buildReference(classifier, other, 10, 1)).rejects.toThrow(`${other} (2 files) is not the data the fashion-mnist ruler was trained on (4 files, another fingerprint)`);
    } finally {
      await classifier.release();
    }
  });
});

describe('a model smaller than its ruler', () => {
  it('is measured scaled up by a whole factor, exactly as scale=k serves it; other sizes are refused', { timeout: 60_000 }, async () => {
    const classifier = await Classifier.load('rulers/fashion-mnist');
    try {
      expect(classifier.scaleOf({ width: 14, height: 14, channels: 1 }, 'm')).toBe(2);
      expect(() => classifier.scaleOf({ width: 20, height: 20, channels: 1 }, 'm')).toThrow('m makes 20x20x1 images; the classifier reads 28x28x1 (a model is measured at that size, or scaled up to it by a whole factor)');
      const ref = await buildReference(classifier, undefined, 2000, 1);
      // 2,000 real test images at 14x14 (2x2 means), as a 14x14 model would draw them at best.
      const n = 2000;
      const small = new Uint8Array(n * 196);
      for (let i = 0; i < n; i++) {
        for (let y = 0; y < 14; y++) {
          for (let x = 0; x < 14; x++) {
            const at = (dy: number, dx: number) => ref.testImages[i * 784 + (2 * y + dy) * 28 + 2 * x + dx]!;
            small[i * 196 + y * 14 + x] = Math.round((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4);
          }
        }
      }
      const up = classifier.toRulerSize(small, n, { width: 14, height: 14, channels: 1 });
      expect(up.length).toBe(n * 784);
      expect(up.subarray(784 * 7, 784 * 8)).toEqual(upscaleNearest({ width: 14, height: 14, channels: 1, data: small.subarray(196 * 7, 196 * 8) }, 2).data);
      const halfRes = (await measureSamples(classifier, ref, up, n)).metrics.fcd;
      const fullRes = (await measureSamples(classifier, ref, ref.testImages.subarray(0, n * 784), n)).metrics.fcd;
      // Half the resolution costs FCD (measured: 1.22 at 28x28, 52.4 at 14x14 scaled up), and far less than images
      // that are not the data (a flat grey: 1,304).
      expect(fullRes).toBeCloseTo(1.22, 1);
      expect(halfRes).toBeGreaterThan(52.4 * 0.95);
      expect(halfRes).toBeLessThan(52.4 * 1.05);
      const flat = (await measureSamples(classifier, ref, new Uint8Array(n * 784).fill(128), n)).metrics.fcd;
      expect(halfRes).toBeLessThan(flat / 10);
    } finally {
      await classifier.release();
    }
  });
});
