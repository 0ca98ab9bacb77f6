/**
 * --class-balance P: an epoch draws class c in proportion to count_c^P (trainer/data/class-balance.ts). The order is
 * a function of the seed and epoch alone, so a run that stops and resumes computes the same losses.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { balancedOrder, classQuotas, classSampler } from '../../trainer/data/class-balance.js';
import { SeededRandom } from '../../shared/rng.js';
import { parseTrainArgs, type TrainOptions } from '../../trainer/cli/options.js';
import { loadCheckpoint } from '../../trainer/run/checkpoint.js';
import type { RunMeta } from '../../trainer/run/run-state.js';
import { makeImageFolder, pictureRgba, writePicture } from '../helpers/image-folder.js';
import { parseClassifierArgs, trainClassifier, type ClassifierOptions } from '../../trainer/classifier.js';
import { classifierDefaults } from '../../trainer/eval/classifier-model.js';
import { mkdirSync } from 'node:fs';
import { tempDir } from '../helpers/tmp.js';
import { tinyRun } from '../helpers/tiny-run.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

// The emoji folder's category sizes (npm run data:emoji), Activities .. Travel & Places.
const EMOJI = [85, 159, 270, 131, 264, 2261, 169, 224, 218];
const total = EMOJI.reduce((a, b) => a + b, 0);

describe('--class-balance (trainer/data/class-balance.ts)', () => {
  it('gives each class count^P of the slots, by largest remainders', () => {
    const n = 59 * 64;
    for (const p of [0, 0.5, 1]) expect(classQuotas(EMOJI, p, n).reduce((a, b) => a + b, 0)).toBe(n);
    // P = 1: the data's own proportions; P = 0: equal shares (3776 = 9 * 419 + 5); P = 0.5: the square root.
    classQuotas(EMOJI, 1, total).forEach((q, c) => expect(q).toBe(EMOJI[c]));
    expect(classQuotas(EMOJI, 0, n)).toEqual([420, 420, 420, 420, 420, 419, 419, 419, 419]);
    const sqrt = classQuotas(EMOJI, 0.5, n);
    const roots = EMOJI.map(Math.sqrt);
    const rootSum = roots.reduce((a, b) => a + b, 0);
    sqrt.forEach((q, c) => expect(Math.abs(q - (n * roots[c]!) / rootSum)).toBeLessThan(1));
    // An empty class gets nothing, whatever P.
    expect(classQuotas([0, 10, 30], 0, 7)).toEqual([0, 4, 3]);
  });

  it('visits every image of a class before repeating one, is a function of its seed, and shuffles the classes together', () => {
    const labels = Uint8Array.from(EMOJI.flatMap((c, k) => new Array<number>(c).fill(k)));
    const length = 59 * 64;
    const a = balancedOrder(labels, EMOJI.length, 0, length, 7);
    expect(balancedOrder(labels, EMOJI.length, 0, length, 7)).toEqual(a);
    expect(balancedOrder(labels, EMOJI.length, 0, length, 8)).not.toEqual(a);
    expect(a).toHaveLength(length);
    const quotas = classQuotas(EMOJI, 0, length);
    for (let c = 0; c < EMOJI.length; c++) {
      const picks = [...a].filter((i) => labels[i] === c);
      expect(picks).toHaveLength(quotas[c]!);
      // Activities (85 images, 420 slots): every image 4 or 5 times; People & Body (2261, 419 slots): no repeats.
      const times = new Map<number, number>();
      for (const i of picks) times.set(i, (times.get(i) ?? 0) + 1);
      const most = Math.max(...times.values());
      expect(most).toBe(Math.ceil(quotas[c]! / EMOJI[c]!));
      expect(times.size).toBe(Math.min(EMOJI[c]!, quotas[c]!));
    }
    // Not grouped by class: the first 64 slots (a batch) hold several classes.
    expect(new Set([...a.subarray(0, 64)].map((i) => labels[i])).size).toBeGreaterThan(5);
  });

  it('draws the classes of the standing statistics in the same proportions as the epochs', () => {
    const labels = Uint8Array.from([...EMOJI.flatMap((c, k) => new Array<number>(c).fill(k))]);
    for (const p of [0, 0.5, 1]) {
      const drawn = classSampler(labels, EMOJI.length, p, new SeededRandom(3))(40_000);
      const quotas = classQuotas(EMOJI, p, 40_000);
      // Binomial noise at 40,000 draws: under 4 standard deviations of each class's count.
      for (let c = 0; c < EMOJI.length; c++) {
        const got = drawn.filter((x) => x === c).length;
        expect(Math.abs(got - quotas[c]!)).toBeLessThan(4 * Math.sqrt(quotas[c]!));
      }
      expect(classSampler(labels, EMOJI.length, p, new SeededRandom(3))(100)).toEqual(drawn.subarray(0, 100));
    }
    // A class without images is never drawn.
    expect(classSampler(Uint8Array.from([1, 1, 2]), 3, 0, new SeededRandom(1))(1000).includes(0)).toBe(false);
  });

  it('is a number in [0, 1] on the command line', () => {
    expect(parseTrainArgs(['--class-balance', '0.5'])!.classBalance).toBe(0.5);
    expect(parseTrainArgs(['--class-balance', '0'])!.classBalance).toBe(0);
    expect(parseTrainArgs([])!.classBalance).toBeUndefined();
    for (const bad of ['1.5', '-0.1', 'half', '']) expect(() => parseTrainArgs([`--class-balance=${bad}`])).toThrow(/--class-balance must be a number in \[0, 1\]/);
  });
});

describe('a run with --class-balance', () => {
  const losses = async (run: string) =>
    (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { d: number; g: number });

  it('trains on other batches, resumes to the same losses, keeps the option on resume, and needs labels', async () => {
    const { train } = await import('../../trainer/train.js');
    const folder = await makeImageFolder({ classes: ['a', 'b'], perClass: 6, broken: false });
    const base = (out: string, extra: Partial<TrainOptions>) => tinyRun('cgan', folder.dir, out, { epochs: 2, ...extra });
    const dir = tempDir('class-balance');
    const plain = join(dir, 'plain');
    const straight = join(dir, 'straight');
    const resumed = join(dir, 'resumed');
    const lines: string[] = [];
    await train(base(plain, {}), () => {});
    await train(base(straight, { classBalance: 0 }), (l) => lines.push(l));
    expect(lines).toContain('class balance 0: per 1000 images a 500, b 500');
    await train(base(resumed, { classBalance: 0, epochs: undefined, steps: 2 }), () => {});
    await train(base(resumed, { resume: true, overrides: {} }), () => {});
    const [p, s, r] = await Promise.all([losses(plain), losses(straight), losses(resumed)]);
    expect(s).toHaveLength(6);
    expect(s.map((x) => x.g)).not.toEqual(p.map((x) => x.g));
    expect(r.map((x) => [x.d, x.g])).toEqual(s.map((x) => [x.d, x.g]));
    expect((await loadCheckpoint<RunMeta>(resumed))!.meta.classBalance).toBe(0);
    const single = await makeImageFolder({ classes: ['only'], perClass: 6, broken: false });
    await expect(train({ ...base(join(dir, 'single'), { classBalance: 0.5 }), model: 'dcgan', data: single.dir }, () => {})).rejects.toThrow(/--class-balance needs labelled data/);
  }, 120_000);
});

describe('a ruler trained with --class-balance', () => {
  it('draws the classes re-weighted, says so in its card, keeps it on resume, and refuses it with --rotation', async () => {
    // 48 pictures of one class and 12 of another, as the emoji folder's People & Body and Activities.
    const data = tempDir('imbalanced');
    for (const [c, [name, count]] of ([['big', 48], ['small', 12]] as const).entries()) {
      mkdirSync(join(data, name));
      for (let i = 0; i < count; i++) await writePicture(join(data, name, `p-${i}.png`), pictureRgba(c, i, 16, 16), 16, 16);
    }
    const dir = tempDir('balanced-ruler');
    const opts = (out: string, extra: Partial<ClassifierOptions>): ClassifierOptions => ({
      epochs: 2, batchSize: 8, validation: 8, seed: 1, out: join(dir, out), export: join(dir, `${out}-ruler`), data, resume: false, backend: 'wasm',
      folder: { imageSize: 16, channels: 3, fit: 'crop', background: [255, 255, 255] }, config: { ...classifierDefaults, channels: [4, 8, 8], featureSize: 8 }, ...extra,
    });
    const lines: string[] = [];
    const plain = await trainClassifier(opts('plain', {}), () => {});
    const balanced = await trainClassifier(opts('balanced', { classBalance: 0 }), (l) => lines.push(l));
    expect(lines.some((l) => /^class balance 0: per 1000 images big 500, small 500$/.test(l))).toBe(true);
    expect(balanced.training.classBalance).toBe(0);
    expect(plain.training.classBalance).toBeUndefined();
    // Other batches, so other losses from the same initial weights.
    expect(balanced.history.map((h) => h.loss)).not.toEqual(plain.history.map((h) => h.loss));
    // Stopped after one epoch and resumed without the flag: the same two epochs as the straight run.
    await trainClassifier(opts('resumed', { classBalance: 0, epochs: 1 }), () => {});
    const resumed = await trainClassifier(opts('resumed', { resume: true }), () => {});
    expect(resumed.training.classBalance).toBe(0);
    expect(resumed.history.map((h) => h.loss)).toEqual(balanced.history.map((h) => h.loss));
    await expect(trainClassifier(opts('resumed', { resume: true, classBalance: 0.5, epochs: 3 }), () => {})).rejects.toThrow(/--class-balance 0.5: .* was trained with 0, and a ruler keeps its sampling/);
    await expect(trainClassifier(opts('rotation', { classBalance: 0.5, rotation: true }), () => {})).rejects.toThrow(/--class-balance re-weights labelled classes/);
    expect(parseClassifierArgs(['--class-balance', '0.5']).classBalance).toBe(0.5);
    expect(() => parseClassifierArgs(['--class-balance', '2'])).toThrow('--class-balance must be a number in [0, 1], got "2"');
  }, 120_000);
});
