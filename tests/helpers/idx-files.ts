import { existsSync } from 'node:fs';
import { DEFAULT_DATA_DIR } from '../../trainer/data/idx.js';
/** Writes small synthetic MNIST-style IDX files, raw or gzipped, for data and training tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function idxBytes(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** `n` 28x28 images (a bright square whose position depends on the label) and labels 0..9, in `dir`. */
export function writeSyntheticSplit(dir: string, split: 'train' | 't10k', n: number, gzip = true): void {
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    const off = 2 + labels[i]! * 2;
    for (let y = off; y < off + 8; y++) for (let x = off; x < off + 8; x++) images[i * 784 + y * 28 + x] = 255;
  }
  const write = (name: string, bytes: Uint8Array) => (gzip ? writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes)) : writeFileSync(join(dir, name), bytes));
  write(`${split}-images-idx3-ubyte`, idxBytes([n, 28, 28], images));
  write(`${split}-labels-idx1-ubyte`, idxBytes([n], labels, 0x08));
}

/**
 * The real Fashion-MNIST directory, or a loud failure: tests that train on real data never swap in synthetic
 * images (CI installs the Debian package).
 */
export function fashionMnistDir(): string {
  if (!existsSync(DEFAULT_DATA_DIR)) throw new Error(`these tests need Fashion-MNIST: apt-get install dataset-fashion-mnist (${DEFAULT_DATA_DIR})`);
  return DEFAULT_DATA_DIR;
}
