/**
 * A ruler for any folder (issue 28 section 5): on a folder without labels, `npm run classifier -- --rotation` trains
 * the classifier to tell four turns of each image apart (Gidaris et al. 2018); its card says so and carries the
 * folder's fingerprint, so a run on that folder finds it (trainer/eval/ruler.ts) and --until-plateau can work.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateSquare, rotationDataset } from '../../trainer/data/rotations.js';
import { trainClassifier } from '../../trainer/classifier.js';
import { classifierDefaults } from '../../trainer/eval/classifier-model.js';
import { dataFingerprint } from '../../trainer/data/fingerprint.js';
import { findRuler } from '../../trainer/eval/ruler.js';
import { encodePng } from '../../shared/png.js';
import { tempDir } from '../helpers/tmp.js';

describe('rotations', () => {
  it('a quarter turn is clockwise, and four are the identity', () => {
    // 2x2 gray: a b / c d turned clockwise is c a / d b.
    const out = new Uint8Array(4);
    rotateSquare(Uint8Array.from([1, 2, 3, 4]), 2, 1, 1, out);
    expect(Array.from(out)).toEqual([3, 1, 4, 2]);
    const img = Uint8Array.from({ length: 5 * 5 * 3 }, (_, i) => (i * 37) & 255);
    let cur = img;
    for (let q = 0; q < 4; q++) {
      const next = new Uint8Array(cur.length);
      rotateSquare(cur, 5, 3, 1, next);
      cur = next;
    }
    expect(cur).toEqual(img);
  });

  it('each image appears in its four turns, labelled by the turn', () => {
    const d = rotationDataset({ name: 'x', images: Uint8Array.from([1, 2, 3, 4]), labels: Uint8Array.from([7]), count: 1, shape: { width: 2, height: 2, channels: 1 }, classNames: [] });
    expect([d.count, Array.from(d.labels), d.classNames]).toEqual([4, [0, 1, 2, 3], ['0', '90', '180', '270']]);
    expect(Array.from(d.images.subarray(8, 12))).toEqual([4, 3, 2, 1]); // half a turn
  });
});

describe('a self-supervised ruler for an unlabelled folder', () => {
  it('trains, records what it was trained on, and is the ruler a run on that folder finds', async () => {
    const dir = tempDir('unlabelled');
    // 60 pictures with an up: a dark bar along the top and a spot at a varying place below it.
    for (let i = 0; i < 60; i++) {
      const data = new Uint8Array(16 * 16 * 3).fill(235);
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        const o = (y * 16 + x) * 3;
        if (y < 3) data.set([30, 30 + 3 * i, 90], o);
        else if (Math.hypot(x - 3 - (i % 10), y - 10) < 2.5) data.set([200, 40, 40], o);
      }
      writeFileSync(join(dir, `p-${i}.png`), encodePng({ width: 16, height: 16, channels: 3, data }));
    }
    const rulers = tempDir('rulers');
    mkdirSync(join(rulers, 'mine'));
    const card = await trainClassifier({
      epochs: 3, batchSize: 32, seed: 1, out: join(tempDir('clf'), 'run'), export: join(rulers, 'mine'), data: dir, resume: false, backend: 'wasm', rotation: true,
      folder: { imageSize: 16, channels: 3, fit: 'crop', background: [255, 255, 255] }, config: { ...classifierDefaults, channels: [8, 16, 32], featureSize: 32 },
    }, () => {});
    expect(card).toMatchObject({ selfSupervised: 'rotation', classNames: ['0', '90', '180', '270'], trainedOn: { sha256: (await dataFingerprint(dir)).sha256, files: 60 } });
    expect(card.testCount).toBe(4 * 9); // 15% of 60 held out, each in its four turns
    expect(card.training.config.flip).toBe(false); // a mirrored quarter turn would carry the wrong label
    // Chance is 25%; an up this plain is learnt in three epochs.
    expect(card.testAccuracy).toBeGreaterThan(0.6);
    const found = await findRuler(dir, { width: 16, height: 16, channels: 3 }, undefined, rulers);
    expect(found.ok && found.dir).toBe(join(rulers, 'mine'));
  }, 120_000);
});
