/** Tiling images into one grid, and the layout change from a graph's NCHW output to interleaved pixels. */
import type { RasterImage } from './png.js';

export interface ImageShape {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** Moves a batch's channels between planes ([n, c, h, w]) and interleaved pixels ([n, h, w, c]). */
function reorder(src: ArrayLike<number>, n: number, shape: ImageShape, fromPlanes: boolean): Float32Array {
  const { width: w, height: h, channels: c } = shape;
  const out = new Float32Array(n * h * w * c);
  if (c === 1) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]!;
    return out;
  }
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) {
        const planar = (b * c + ch) * h * w + p;
        const interleaved = (b * h * w + p) * c + ch;
        if (fromPlanes) out[interleaved] = src[planar]!;
        else out[planar] = src[interleaved]!;
      }
    }
  }
  return out;
}

/** A batch [n, c, h, w] (ONNX / NCHW order) to [n, h, w, c] (interleaved, as PNG wants). */
export const nchwToNhwc = (src: ArrayLike<number>, n: number, shape: ImageShape): Float32Array => reorder(src, n, shape, true);

/** A batch [n, h, w, c] (interleaved) to [n, c, h, w] (an ONNX graph's image input). */
export const nhwcToNchw = (src: ArrayLike<number>, n: number, shape: ImageShape): Float32Array => reorder(src, n, shape, false);

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

/** Nearest-neighbour upscaling by an integer factor: each pixel becomes a k x k block (crisp in an <img> tag). */
export function upscaleNearest(img: RasterImage, k: number): RasterImage {
  if (k === 1) return img;
  const { width, height, channels, data } = img;
  const w = width * k;
  const out = new Uint8Array(w * height * k * channels);
  const rowBytes = w * channels;
  for (let y = 0; y < height; y++) {
    const row = out.subarray(y * k * rowBytes, (y * k + 1) * rowBytes);
    for (let x = 0; x < width; x++) {
      const src = data.subarray((y * width + x) * channels, (y * width + x + 1) * channels);
      for (let i = 0; i < k; i++) row.set(src, (x * k + i) * channels);
    }
    for (let i = 1; i < k; i++) out.copyWithin((y * k + i) * rowBytes, y * k * rowBytes, (y * k + 1) * rowBytes);
  }
  return { width: w, height: height * k, channels, data: out };
}
