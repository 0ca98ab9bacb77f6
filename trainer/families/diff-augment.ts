/**
 * Differentiable Augmentation (Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN
 * Training"): the same random colour, translation and cutout transforms are applied to real and generated images
 * every time D sees them, in D's step and in G's step, with ops the gradient flows through. D then cannot memorise
 * a small training set, and G is not pushed to reproduce the augmentations (they are applied to its output too).
 *
 * Transforms follow the paper's reference code, on images in [-1, 1], NHWC:
 * - color: brightness + U(-0.5, 0.5); saturation x U(0, 2) around the per-pixel channel mean; contrast
 *   x U(0.5, 1.5) around the per-image mean;
 * - translation: a shift of up to 1/8 of each side, per image, filled with zeros;
 * - cutout: a zeroed square of half the side at a random place, per image.
 * Random numbers come from the run's seeded stream, so a resumed run draws the same ones.
 */
import { tf } from '../backend/tf.js';
import type { SeededRandom } from '../../shared/rng.js';

export const DIFF_AUGMENT_POLICIES = ['color', 'translation', 'cutout'] as const;
export type DiffAugmentPolicy = (typeof DIFF_AUGMENT_POLICIES)[number];

const uniform = (rng: SeededRandom, n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.nextFloat());

function color(x: tf.Tensor4D, rng: SeededRandom): tf.Tensor4D {
  const n = x.shape[0];
  const brightness = tf.tensor4d(uniform(rng, n, -0.5, 0.5), [n, 1, 1, 1]);
  const saturation = tf.tensor4d(uniform(rng, n, 0, 2), [n, 1, 1, 1]);
  const contrast = tf.tensor4d(uniform(rng, n, 0.5, 1.5), [n, 1, 1, 1]);
  let y: tf.Tensor4D = tf.add(x, brightness);
  const channelMean = tf.mean(y, 3, true);
  y = tf.add(tf.mul(tf.sub(y, channelMean), saturation), channelMean);
  const imageMean = tf.mean(y, [1, 2, 3], true);
  return tf.add(tf.mul(tf.sub(y, imageMean), contrast), imageMean);
}

/**
 * Per-image shift matrices [n, side, side]: row i of image b picks source row i - shift_b (zero when outside), so
 * `S @ rows` translates by shift_b along that axis. A batched matmul is differentiable and runs on XNNPACK.
 */
function shiftMatrices(shifts: number[], side: number): tf.Tensor3D {
  const m = new Float32Array(shifts.length * side * side);
  shifts.forEach((s, b) => {
    for (let i = 0; i < side; i++) {
      const src = i - s;
      if (src >= 0 && src < side) m[(b * side + i) * side + src] = 1;
    }
  });
  return tf.tensor3d(m, [shifts.length, side, side]);
}

function translation(x: tf.Tensor4D, rng: SeededRandom, ratio = 0.125): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const draw = (side: number) => Array.from({ length: n }, () => Math.floor(rng.nextFloat() * (2 * Math.round(side * ratio) + 1)) - Math.round(side * ratio));
  const sy = shiftMatrices(draw(h), h);
  const sx = shiftMatrices(draw(w), w);
  // Rows: [n, h, w*c]; columns: transpose to [n, w, h*c] explicitly (transposed matmuls are slow on wasm).
  const rows = tf.reshape(tf.matMul(sy, tf.reshape(x, [n, h, w * c])), [n, h, w, c]);
  const cols = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [n, w, h * c]);
  return tf.transpose(tf.reshape(tf.matMul(sx, cols), [n, w, h, c]), [0, 2, 1, 3]);
}

function cutout(x: tf.Tensor4D, rng: SeededRandom, ratio = 0.5): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const ch = Math.round(h * ratio);
  const cw = Math.round(w * ratio);
  const mask = new Float32Array(n * h * w).fill(1);
  for (let b = 0; b < n; b++) {
    // The square's centre anywhere on the image, as in the reference code (it may hang over the edge).
    const cy = Math.floor(rng.nextFloat() * (h + (1 - (ch % 2)))) - Math.floor(ch / 2);
    const cx = Math.floor(rng.nextFloat() * (w + (1 - (cw % 2)))) - Math.floor(cw / 2);
    for (let y = Math.max(0, cy); y < Math.min(h, cy + ch); y++) mask.fill(0, (b * h + y) * w + Math.max(0, cx), (b * h + y) * w + Math.min(w, cx + cw));
  }
  return tf.mul(x, tf.tensor4d(mask, [n, h, w, 1]));
}

const TRANSFORMS: Record<DiffAugmentPolicy, (x: tf.Tensor4D, rng: SeededRandom) => tf.Tensor4D> = { color, translation, cutout };

/** Applies `policies` in the paper's order (color, translation, cutout). Call inside a tidy / gradient scope. */
export function diffAugment(x: tf.Tensor4D, policies: readonly DiffAugmentPolicy[], rng: SeededRandom): tf.Tensor4D {
  return DIFF_AUGMENT_POLICIES.filter((p) => policies.includes(p)).reduce((y, p) => TRANSFORMS[p](y, rng), x);
}
