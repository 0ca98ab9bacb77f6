/** IDX parsing: good files (raw and gzip), corrupt ones, missing ones, and the real Fashion-MNIST package. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, DEFAULT_DATA_DIR, loadImageDataset, parseIdx } from '../../trainer/data/idx.js';
import { fashionMnistDir, idxBytes, writeSyntheticSplit } from '../helpers/idx-files.js';
import { tempDir } from '../helpers/tmp.js';
import { gzipSync } from 'node:zlib';

describe('parseIdx', () => {
  it('reads dimensions and data, raw or gzipped', () => {
    const bytes = idxBytes([2, 3], Uint8Array.of(1, 2, 3, 4, 5, 6));
    for (const input of [bytes, new Uint8Array(gzipSync(bytes))]) {
      const { dims, data } = parseIdx(input, 'x');
      expect(dims).toEqual([2, 3]);
      expect([...data]).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it.each([
    ['a bad magic number', Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 1, 5), /bad magic/],
    ['an unsupported element type', idxBytes([1], Uint8Array.of(0), 0x0d), /element type 0xd/],
    ['a truncated body', idxBytes([4], Uint8Array.of(1, 2)), /promises 4 bytes/],
    ['a truncated header', Uint8Array.of(0, 0, 8, 3, 0, 0), /truncated IDX header/],
    ['corrupt gzip', Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3), /corrupt gzip/],
  ])('rejects %s, naming the file', (_, bytes, message) => {
    expect(() => parseIdx(bytes, '/data/f.idx')).toThrow(DataError);
    expect(() => parseIdx(bytes, '/data/f.idx')).toThrow(message);
    expect(() => parseIdx(bytes, '/data/f.idx')).toThrow('/data/f.idx');
  });
});

describe('loadImageDataset', () => {
  it('loads a split, raw or gzipped, and honours a limit', () => {
    for (const gzip of [true, false]) {
      const dir = tempDir('idx');
      writeSyntheticSplit(dir, 'train', 30, gzip);
      const d = loadImageDataset(dir, 'train', 20);
      expect(d.count).toBe(20);
      expect(d.images.length).toBe(20 * 784);
      expect(d.shape).toEqual({ width: 28, height: 28, channels: 1 });
      expect([...d.labels.subarray(0, 12)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    }
  });

  it('says which file is missing and how to get it', () => {
    const dir = tempDir('idx-missing');
    expect(() => loadImageDataset(dir, 'train')).toThrow(new RegExp(`missing ${dir}/train-images-idx3-ubyte.gz .*--data DIR`));
  });

  it('rejects image and label files that disagree', () => {
    const dir = tempDir('idx-mismatch');
    writeSyntheticSplit(dir, 'train', 10);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxBytes([9], new Uint8Array(9))));
    expect(() => loadImageDataset(dir, 'train')).toThrow(/10 images but 9 labels/);
  });

  it('reads the real Fashion-MNIST from the Debian package (CI installs it; missing is a failure, not a skip)', () => {
    fashionMnistDir();
    const train = loadImageDataset(DEFAULT_DATA_DIR, 'train');
    const test = loadImageDataset(DEFAULT_DATA_DIR, 't10k');
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect(train.classNames[9]).toBe('Ankle boot');
    const counts = new Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(6000));
  });
});
