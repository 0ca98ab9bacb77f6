/** Tiling images into one grid, and the layout change from a graph's NCHW output to interleaved pixels. */
import type { RasterImage } from './png.js';

export interface ImageShape {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** A batch [n, c, h, w] (ONNX / NCHW order) to [n, h, w, c] (interleaved, as PNG wants). */
export function nchwToNhwc(src: ArrayLike<number>, n: number, shape: ImageShape): Float32Array {
  const { width: w, height: h, channels: c } = shape;
  const out = new Float32Array(n * h * w * c);
  if (c === 1) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]!;
    return out;
  }
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) out[(b * h * w + p) * c + ch] = src[(b * c + ch) * h * w + p]!;
    }
  }
  return out;
}

/**
 * Tiles `n` images (bytes, [n, h, w, c]) row-major into a grid of `cols` columns, edge to edge without padding.
 * Cells after the last image stay black.
 */
export function tileImages(pixels: Uint8Array, n: number, shape: ImageShape, cols: number): RasterImage {
  const { width: w, height: h, channels: c } = shape;
  if (pixels.length !== n * w * h * c) throw new RangeError(`expected ${n * w * h * c} bytes for ${n} images, got ${pixels.length}`);
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be a positive integer, got ${cols}`);
  const rows = Math.ceil(n / cols);
  const width = cols * w;
  const out = new Uint8Array(rows * h * width * c);
  const rowBytes = w * c;
  for (let i = 0; i < n; i++) {
    const gx = (i % cols) * w;
    const gy = Math.floor(i / cols) * h;
    for (let y = 0; y < h; y++) {
      const src = (i * h + y) * rowBytes;
      out.set(pixels.subarray(src, src + rowBytes), ((gy + y) * width + gx) * c);
    }
  }
  return { width, height: rows * h, channels: c, data: out };
}

/** The default number of columns for `n` images: a near-square grid. */
export function defaultColumns(n: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(n)));
}
