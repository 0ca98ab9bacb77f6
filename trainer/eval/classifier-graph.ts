/**
 * The classifier as one ONNX graph with two outputs: `features` (the penultimate layer, FCD's feature space) and
 * `logits`. Input: `image` [batch, channels, height, width], pixels in 0..1 (bytes / 255). Checked against tfjs
 * with onnxruntime-node before it is written, like every exported graph.
 */
import { OrtTensor, openSession, } from '../export/ort-node.js';
import { tf } from '../backend/tf.js';
import type { Network } from '../nn/network.js';
import { networkToOnnx } from '../export/onnx-graph.js';
import { serializeModel } from '../export/onnx-model.js';
import { ExportError } from '../export/verify.js';
import type { ImageShape } from '../../shared/grid.js';

export const CLASSIFIER_TENSORS = { image: 'image', features: 'features', logits: 'logits' } as const;

export async function classifierToOnnx(features: Network, head: Network, image: ImageShape): Promise<Uint8Array> {
  const { width, height, channels } = image;
  const f = networkToOnnx(features.spec, await features.snapshot(), CLASSIFIER_TENSORS.image, CLASSIFIER_TENSORS.features, 'features');
  const h = networkToOnnx(head.spec, await head.snapshot(), CLASSIFIER_TENSORS.features, CLASSIFIER_TENSORS.logits, 'head');
  return serializeModel(
    {
      name: 'fashion-classifier',
      nodes: [...f.nodes, ...h.nodes],
      initializers: [...f.initializers, ...h.initializers],
      inputs: [{ name: CLASSIFIER_TENSORS.image, dtype: 'float32', shape: ['batch', channels, height, width] }],
      outputs: [
        { name: CLASSIFIER_TENSORS.features, dtype: 'float32', shape: ['batch', features.outputShape[0]!] },
        { name: CLASSIFIER_TENSORS.logits, dtype: 'float32', shape: ['batch', head.outputShape[0]!] },
      ],
    },
    'edge-generative classifier',
  );
}

/** Max |diff| of both outputs between the graph (onnxruntime-node) and tfjs on `nhwc` images; throws above `tolerance`. */
export async function classifierParity(graph: Uint8Array, features: Network, head: Network, nhwc: tf.Tensor4D, tolerance: number): Promise<number> {
  const session = await openSession(graph);
  const nchw = tf.transpose(nhwc, [0, 3, 1, 2]);
  const input = new OrtTensor('float32', (await nchw.data()) as Float32Array, nchw.shape);
  nchw.dispose();
  const got = await session.run({ [CLASSIFIER_TENSORS.image]: input });
  await session.release();
  const [feat, logits] = tf.tidy(() => {
    const x = features.apply(nhwc, { training: false });
    return [x, head.apply(x, { training: false })];
  });
  let max = 0;
  for (const [name, want] of [[CLASSIFIER_TENSORS.features, feat!], [CLASSIFIER_TENSORS.logits, logits!]] as const) {
    const w = (await want.data()) as Float32Array;
    const g = got[name]!.data as Float32Array;
    for (let i = 0; i < w.length; i++) {
      const d = Math.abs(w[i]! - g[i]!);
      if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
    }
  }
  tf.dispose([feat!, logits!]);
  if (!(max <= tolerance)) throw new ExportError(`classifier graph differs from the tfjs model: max |diff| = ${max} > ${tolerance}`);
  return max;
}
