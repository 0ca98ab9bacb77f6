/** From latents to pixels: run the image graph, then the shared layout and pixel conversions. */
import { nchwToNhwc } from '../../shared/grid.js';
import { pixelsToBytes } from '../../shared/pixels.js';
import type { Manifest } from '../../shared/manifest.js';
import { imageGraphRole } from '../../shared/manifest.js';
import type { InferenceSession, RuntimeTensor } from '../../shared/runtime.js';

/**
 * `n` images as bytes [n, h, w, c] from latents (n x latentSize, row-major) and, for a conditional model, one
 * class index per image.
 */
export async function latentsToImages(manifest: Manifest, session: InferenceSession, latents: Float32Array, n: number, labels?: ArrayLike<number>): Promise<Uint8Array> {
  const graph = manifest.graphs[imageGraphRole(manifest.family)]!;
  const [input, labelInput] = graph.inputs;
  const output = graph.outputs[0]!;
  const feeds: Record<string, RuntimeTensor> = { [input!.name]: { dtype: 'float32', data: latents, dims: [n, manifest.latent.size] } };
  if (labelInput) {
    if (!labels || labels.length !== n) throw new Error(`model ${manifest.id} needs ${n} class labels`);
    feeds[labelInput.name] = { dtype: 'int64', data: BigInt64Array.from(Array.from(labels), BigInt), dims: [n] };
  }
  const result = await session.run(feeds);
  const values = result[output.name];
  const { width, height, channels } = manifest.image;
  if (!values || values.data.length !== n * width * height * channels) {
    throw new Error(`graph output "${output.name}" has ${values?.data.length ?? 0} values, expected ${n * width * height * channels}`);
  }
  return pixelsToBytes(nchwToNhwc(values.data, n, manifest.image), manifest.image.pixelRange);
}
