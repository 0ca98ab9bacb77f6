/**
 * `--data DIR` with a folder of real PNG, JPEG, WebP and GIF files (made by tests/helpers/image-folder.ts): class
 * labels from subfolders or a CSV, broken files skipped and reported, defaults from the images, the decode cache,
 * and the one-line errors.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFolderDataset } from '../../trainer/data/folder.js';
import { preprocessImage } from '../../shared/preprocess.js';
import { makeImageFolder, type ImageFolder } from '../helpers/image-folder.js';
import { tempDir } from '../helpers/tmp.js';

const WHITE: [number, number, number] = [255, 255, 255];
let folder: ImageFolder;
let cacheDir: string;

beforeAll(async () => {
  folder = await makeImageFolder();
  cacheDir = tempDir('dataset-cache');
});

describe('image folder data sets', () => {
  it('finds every image recursively, labels it by its first-level folder, and skips the broken files', async () => {
    const lines: string[] = [];
    const d = await loadFolderDataset(folder.dir, { imageSize: 16, fit: 'crop', background: WHITE, cacheDir }, (l) => lines.push(l));
    expect(d.classNames).toEqual(['circles', 'squares']);
    expect(d.count).toBe(2 * folder.perClass);
    expect([...d.labels].filter((l) => l === 0)).toHaveLength(folder.perClass);
    expect(d.skipped.map((s) => s.file)).toEqual(folder.broken);
    expect(d.shape).toEqual({ width: 16, height: 16, channels: 3 });
    expect(d.images.length).toBe(d.count * 16 * 16 * 3);
    expect(lines.join('\n')).toMatch(/skipped 4 unreadable file\(s\)/);
    // Class 0 is red inside a disc on white: its centre pixel is red, class 1's is blue.
    const centre = (i: number) => [...d.images.subarray(i * 768 + (8 * 16 + 8) * 3, i * 768 + (8 * 16 + 8) * 3 + 3)];
    const c0 = [...d.labels].indexOf(0);
    const c1 = [...d.labels].indexOf(1);
    expect(centre(c0)[0]).toBeGreaterThan(200);
    expect(centre(c1)[2]).toBeGreaterThan(200);
  });

  it('a PNG goes through exactly the shared preprocessing function', async () => {
    const d = await loadFolderDataset(folder.dir, { imageSize: 16, fit: 'pad', background: [0, 0, 0], cacheDir }, () => {});
    const file = join(folder.dir, 'circles', 'img-0.png');
    const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const expected = preprocessImage({ width: info.width, height: info.height, channels: 4, data: new Uint8Array(data) }, d.preprocess);
    // img-0.png is the first decodable file of class 0 in sorted order.
    expect([...d.images.subarray(0, expected.length)]).toEqual([...expected]);
  });

  it('defaults: the shared size of square images, 3 channels when any has colour', async () => {
    const d = await loadFolderDataset(folder.dir, { fit: 'crop', background: WHITE, cacheDir }, () => {});
    expect(d.shape).toEqual({ width: 40, height: 40, channels: 3 });
  });

  it('reads the decoded set from the cache the second time', async () => {
    const opts = { imageSize: 24, fit: 'stretch' as const, background: WHITE, cacheDir };
    const first = await loadFolderDataset(folder.dir, opts, () => {});
    const lines: string[] = [];
    const second = await loadFolderDataset(folder.dir, opts, (l) => lines.push(l));
    expect(lines.join('\n')).toMatch(/from the cache/);
    expect(second.images).toEqual(first.images);
    expect(second.labels).toEqual(first.labels);
    expect(second.skipped).toEqual(first.skipped);
  });

  it('a folder without subfolders is unlabelled; a labels CSV overrides folder names', async () => {
    const flat = await makeImageFolder({ classes: ['only'], perClass: 4, broken: false });
    const d = await loadFolderDataset(join(flat.dir, 'only'), { imageSize: 16, fit: 'crop', background: WHITE, cacheDir }, () => {});
    expect(d.classNames).toEqual([]);
    expect(d.count).toBe(4);
    const csv = join(flat.dir, 'labels.csv');
    writeFileSync(csv, 'path,label\nonly/img-0.png,b\nonly/img-1.jpg,a\nonly/img-2.webp,b\n');
    const labelled = await loadFolderDataset(flat.dir, { imageSize: 16, fit: 'crop', background: WHITE, labelsFile: csv, cacheDir }, () => {});
    expect(labelled.classNames).toEqual(['a', 'b']);
    expect(labelled.count).toBe(3);
    expect([...labelled.labels].sort()).toEqual([0, 1, 1]);
  });

  it('errors: an empty folder, a missing folder, a labels file naming missing files', async () => {
    const empty = tempDir('empty-folder');
    writeFileSync(join(empty, 'notes.txt'), 'no images here');
    await expect(loadFolderDataset(empty, { fit: 'crop', background: WHITE, cacheDir })).rejects.toThrow(/no images \(.png, .jpg/);
    await expect(loadFolderDataset(join(empty, 'nope'), { fit: 'crop', background: WHITE, cacheDir })).rejects.toThrow(/no such directory/);
    const csv = join(empty, 'labels.csv');
    writeFileSync(csv, 'circles/img-0.png,x\nghost.png,y\n');
    await expect(loadFolderDataset(folder.dir, { fit: 'crop', background: WHITE, labelsFile: csv, cacheDir })).rejects.toThrow(/names 1 file\(s\) that are not images in the folder: ghost.png/);
  });
});
