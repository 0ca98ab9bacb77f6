/**
 * IDX files (the MNIST / Fashion-MNIST format, LeCun et al.), raw or gzipped: a magic number naming the element
 * type and rank, big-endian dimension sizes, then the elements. Only unsigned bytes (type 0x08) occur in these
 * data sets, and only those are accepted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ImageShape } from '../../shared/grid.js';

export class DataError extends Error {
  override name = 'DataError';
}

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes (gzip is detected by its magic); `file` names the source in errors. */
export function parseIdx(input: Uint8Array, file: string): IdxArray {
  let bytes = input;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes));
    } catch (err) {
      throw new DataError(`${file}: corrupt gzip data (${(err as Error).message})`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new DataError(`${file}: not an IDX file (bad magic number)`);
  if (bytes[2] !== 0x08) throw new DataError(`${file}: IDX element type 0x${bytes[2]!.toString(16)} is not supported (only unsigned bytes, 0x08)`);
  const rank = bytes[3]!;
  if (rank < 1 || rank > 4) throw new DataError(`${file}: IDX rank ${rank} is out of range 1..4`);
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) throw new DataError(`${file}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerSize + size) {
    throw new DataError(`${file}: IDX header promises ${size} bytes of data for [${dims}], file has ${bytes.length - headerSize}`);
  }
  return { dims, data: bytes.subarray(headerSize) };
}

export interface ImageDataset {
  /** e.g. 'fashion-mnist/train'. */
  name: string;
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  shape: ImageShape;
  classNames: string[];
}

export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';
const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function readIdxFile(dir: string, stem: string): IdxArray {
  const candidates = [`${stem}.gz`, stem].map((f) => join(dir, f));
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    const hint = dir === DEFAULT_DATA_DIR ? "install it with 'apt-get install dataset-fashion-mnist'" : 'pass --data DIR pointing at a directory of MNIST-style IDX files';
    throw new DataError(`missing ${candidates[0]} (or ${basename(candidates[1]!)}): ${hint}`);
  }
  return parseIdx(new Uint8Array(readFileSync(path)), path);
}

/**
 * Loads `split` ('train' or 't10k') from an MNIST-style directory; `limit` keeps the first N examples.
 * Class names are Fashion-MNIST's when the directory's name says fashion, digits otherwise.
 */
export function loadImageDataset(dir: string, split: 'train' | 't10k', limit?: number): ImageDataset {
  const images = readIdxFile(dir, `${split}-images-idx3-ubyte`);
  const labels = readIdxFile(dir, `${split}-labels-idx1-ubyte`);
  if (images.dims.length !== 3) throw new DataError(`${dir}/${split}-images: expected rank 3 [n, h, w], got [${images.dims}]`);
  if (labels.dims.length !== 1) throw new DataError(`${dir}/${split}-labels: expected rank 1 [n], got [${labels.dims}]`);
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) throw new DataError(`${dir}/${split}: ${n} images but ${labels.dims[0]} labels`);
  const count = limit === undefined ? n : Math.min(n, limit);
  const classNames = /fashion/i.test(basename(dir)) ? FASHION_CLASSES : Array.from({ length: 10 }, (_, i) => String(i));
  const labelData = labels.data.subarray(0, count);
  const bad = labelData.findIndex((l) => l >= classNames.length);
  if (bad >= 0) throw new DataError(`${dir}/${split}-labels: label ${labelData[bad]} at index ${bad} is out of range 0..${classNames.length - 1}`);
  return {
    name: `${basename(dir)}/${split}`,
    images: images.data.subarray(0, count * h * w),
    labels: labelData,
    count,
    shape: { height: h, width: w, channels: 1 },
    classNames,
  };
}
