/** The benches' training batches: `batch` images at a time from a decoded data set, in a fixed scattered order. */
import { tf } from '../../trainer/backend/tf.js';
import type { Batch, Family } from '../../trainer/families/family.js';
import type { ImageDataset } from '../../trainer/data/idx.js';
import { bytesToPixels } from '../../shared/pixels.js';

export function batchStream(data: ImageDataset, family: Family<object>, batch: number): () => Batch {
  const { width, height, channels } = data.shape;
  const px = width * height * channels;
  let cursor = 0;
  return () => {
    const pixels = new Float32Array(batch * px);
    for (let i = 0; i < batch; i++) {
      const idx = (cursor++ * 7919) % data.count;
      bytesToPixels(data.images.subarray(idx * px, (idx + 1) * px), family.pixelRange, pixels.subarray(i * px, (i + 1) * px));
    }
    return { images: tf.tensor4d(pixels, [batch, height, width, channels]), labels: new Uint8Array(batch) };
  };
}
