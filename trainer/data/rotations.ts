/**
 * A self-supervised task for a folder without labels (issue 28: a ruler for any folder): every image four times,
 * turned by 0, 90, 180 and 270 degrees, labelled by its turn (Gidaris, Singh & Komodakis 2018, "Unsupervised
 * representation learning by predicting image rotations"). A classifier trained to tell the turns apart learns
 * features of the images' content (what is upright needs knowing what the object is), and those features are a
 * ruler for FCD on data nobody labelled: `npm run classifier -- --data DIR --rotation`.
 */
import type { ImageDataset } from './idx.js';

export const ROTATION_CLASSES = ['0', '90', '180', '270'];

/** One square image [s, s, c] turned clockwise by `quarter` quarter turns, into `out`. */
export function rotateSquare(src: Uint8Array, side: number, channels: number, quarter: number, out: Uint8Array): void {
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      // Source pixel that lands at (x, y) after `quarter` clockwise turns.
      const [sx, sy] = quarter === 0 ? [x, y] : quarter === 1 ? [y, side - 1 - x] : quarter === 2 ? [side - 1 - x, side - 1 - y] : [side - 1 - y, x];
      const o = (y * side + x) * channels;
      const i = (sy * side + sx) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = src[i + c]!;
    }
  }
}

/** Each image of `d` in its four turns, consecutively (image i's turns are 4i .. 4i + 3), labelled 0..3. */
export function rotationDataset(d: ImageDataset): ImageDataset {
  const { width, height, channels } = d.shape;
  if (width !== height) throw new RangeError(`rotations need square images, got ${width}x${height}`);
  const px = width * height * channels;
  const images = new Uint8Array(4 * d.count * px);
  const labels = new Uint8Array(4 * d.count);
  for (let i = 0; i < d.count; i++) {
    const src = d.images.subarray(i * px, (i + 1) * px);
    for (let q = 0; q < 4; q++) {
      rotateSquare(src, width, channels, q, images.subarray((4 * i + q) * px, (4 * i + q + 1) * px));
      labels[4 * i + q] = q;
    }
  }
  return { ...d, images, labels, count: 4 * d.count, classNames: ROTATION_CLASSES };
}
