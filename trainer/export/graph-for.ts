/**
 * One exported graph: the ONNX bytes of a trained network with the contract's tensor names around it, and the
 * seeded inputs its parity check runs on.
 */
import type { ExportedGraph } from '../families/family.js';
import { oneHot } from '../families/one-hot.js';
import { networkToOnnx } from './onnx-graph.js';
import { serializeModel, type ValueInfo } from './onnx-model.js';
import { toNchw, type Feed, type TfInput } from './verify.js';
import { TENSOR_NAMES, type TensorSpec } from '../../shared/manifest.js';
import { latentsForSeed, type LatentDistribution } from '../../shared/latent.js';
import { bytesToPixels, type PixelRange } from '../../shared/pixels.js';
import { SeededRandom } from '../../shared/rng.js';
import type { ImageShape } from '../../shared/grid.js';

export interface GraphContext {
  modelId: string;
  latent: { size: number; distribution: LatentDistribution };
  image: ImageShape;
  pixelRange: PixelRange;
}

export interface BuiltGraph {
  bytes: Uint8Array;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

const toValueInfo = (t: TensorSpec): ValueInfo => ({ name: t.name, dtype: t.dtype, shape: t.shape });

export async function buildGraph(exp: ExportedGraph, ctx: GraphContext): Promise<BuiltGraph> {
  const { width, height, channels } = ctx.image;
  const imageSpec = (name: string): TensorSpec => ({ name, dtype: 'float32', shape: ['batch', channels, height, width] });
  const inputName = exp.input === 'latent' ? TENSOR_NAMES.latent : TENSOR_NAMES.image;
  const inputs: TensorSpec[] = [exp.input === 'latent' ? { name: inputName, dtype: 'float32', shape: ['batch', ctx.latent.size] } : imageSpec(inputName)];
  const outputs: TensorSpec[] = exp.outputs.map((name) => (name === TENSOR_NAMES.image ? imageSpec(name) : { name, dtype: 'float32', shape: ['batch', ctx.latent.size] }));
  const internalOut = exp.outputs.length === 1 ? exp.outputs[0]! : `${exp.role}/joint`;
  const k = exp.classCount ?? 0;
  // A conditional generator reads its class as [z | one-hot(y)] (concat), or in its class batch norms.
  const byLayers = takesLabels(exp);
  const onehot = `${exp.role}/onehot`;
  const networkInput = k > 0 && !byLayers ? `${exp.role}/input` : inputName;
  const part = networkToOnnx(exp.network.spec, await exp.network.snapshot(), networkInput, internalOut, exp.role, byLayers ? onehot : undefined);
  if (k > 0) {
    // Conditional generator: an int64 class index, one-hot by a lookup in the identity matrix.
    inputs.push({ name: TENSOR_NAMES.label, dtype: 'int64', shape: ['batch'] });
    part.initializers.push({ name: `${exp.role}/eye`, dims: [k, k], data: new Float32Array(k * k).map((_, i) => (i % (k + 1) === 0 ? 1 : 0)) });
    part.nodes.unshift(
      { op: 'Gather', inputs: [`${exp.role}/eye`, TENSOR_NAMES.label], outputs: [onehot], attrs: { axis: { i: 0 } } },
      ...(byLayers ? [] : [{ op: 'Concat', inputs: [inputName, onehot], outputs: [networkInput], attrs: { axis: { i: 1 } } }]),
    );
  }
  // An encoder's single dense output holds [mean | logvar]: split it into the contract's two tensors.
  if (exp.outputs.length > 1) part.nodes.push({ op: 'Split', inputs: [internalOut], outputs: exp.outputs, attrs: { axis: { i: 1 } } });
  const bytes = serializeModel({ name: `${ctx.modelId}-${exp.role}`, ...part, inputs: inputs.map(toValueInfo), outputs: outputs.map(toValueInfo) }, 'edge-generative exporter');
  return { bytes, inputs, outputs };
}

/** Whether a conditional network reads its labels in its layers (class batch norm) rather than at its input. */
export const takesLabels = (exp: ExportedGraph) => (exp.classCount ?? 0) > 0 && exp.network.spec.layers.some((l) => l.kind === 'classBatchNorm');

/**
 * Seeded inputs for the parity check: the graph's feeds, and the same inputs as the tfjs network sees them
 * (NHWC images; [z | one-hot(y)] for a conditional generator). Latents are drawn as served, classes cycle.
 */
export async function parityInputs(exp: ExportedGraph, ctx: GraphContext, count: number, seed: number): Promise<{ feeds: Record<string, Feed>; tfInput: TfInput }> {
  if (exp.input === 'image') {
    const { width, height, channels } = ctx.image;
    const rng = new SeededRandom(seed);
    const bytes = new Uint8Array(count * width * height * channels).map(() => rng.nextInt(256));
    const images = { data: bytesToPixels(bytes, ctx.pixelRange), shape: [count, height, width, channels] };
    return { feeds: { [TENSOR_NAMES.image]: { dtype: 'float32', data: await toNchw(images), dims: [count, channels, height, width] } }, tfInput: images };
  }
  const size = ctx.latent.size;
  const z = latentsForSeed(seed, count, size, ctx.latent.distribution);
  const feeds: Record<string, Feed> = { [TENSOR_NAMES.latent]: { dtype: 'float32', data: z, dims: [count, size] } };
  const k = exp.classCount ?? 0;
  if (k === 0) return { feeds, tfInput: { data: z, shape: [count, size] } };
  const labels = new Uint8Array(count).map((_, i) => i % k);
  feeds[TENSOR_NAMES.label] = { dtype: 'int64', data: BigInt64Array.from(labels, BigInt), dims: [count] };
  const code = oneHot(labels, k);
  if (takesLabels(exp)) return { feeds, tfInput: { data: z, shape: [count, size], labels: { data: code, shape: [count, k] } } };
  const joined = new Float32Array(count * (size + k));
  for (let i = 0; i < count; i++) {
    joined.set(z.subarray(i * size, (i + 1) * size), i * (size + k));
    joined.set(code.subarray(i * k, (i + 1) * k), i * (size + k) + size);
  }
  return { feeds, tfInput: { data: joined, shape: [count, size + k] } };
}
