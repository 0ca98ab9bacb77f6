/**
 * The exporter's self-check: the written graph, run by onnxruntime-node, must reproduce the tfjs network on
 * seeded inputs within a tolerance, or the export fails.
 */
import * as ort from 'onnxruntime-node';
import { tf } from '../tf.js';
import type { Network } from '../nn/network.js';

export class ExportError extends Error {
  override name = 'ExportError';
}

export interface ParityResult {
  maxAbsDiff: number;
  count: number;
}

/**
 * Runs `graph` on `input` (NHWC for images, as tfjs takes them) and compares every output with the tfjs network
 * in inference mode. Image outputs are compared in NCHW, the graph's layout.
 */
export async function checkParity(graph: Uint8Array, network: Network, inputName: string, input: { data: Float32Array; shape: number[] }, outputNames: string[], tolerance: number): Promise<ParityResult> {
  const session = await ort.InferenceSession.create(graph);
  const onnxInput = input.shape.length === 4 ? await toNchw(input) : input;
  const result = await session.run({ [inputName]: new ort.Tensor('float32', onnxInput.data, onnxInput.shape) });
  await session.release();
  const expected = tf.tidy(() => {
    const y = network.apply(tf.tensor(input.data, input.shape), { training: false });
    return y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y;
  });
  const want = (await expected.data()) as Float32Array;
  expected.dispose();
  // Outputs split along axis 1 (an encoder's mean and logvar) are compared against the matching columns.
  const cols = want.length / input.shape[0]!;
  const per = cols / outputNames.length;
  let maxAbsDiff = 0;
  outputNames.forEach((name, k) => {
    const got = result[name]!.data as Float32Array;
    for (let n = 0; n < input.shape[0]!; n++) {
      for (let j = 0; j < per; j++) {
        const d = Math.abs(got[n * per + j]! - want[n * cols + k * per + j]!);
        if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
      }
    }
  });
  if (!(maxAbsDiff <= tolerance)) throw new ExportError(`ONNX graph differs from the tfjs model: max |diff| = ${maxAbsDiff} > ${tolerance}`);
  return { maxAbsDiff, count: input.shape[0]! };
}

async function toNchw(x: { data: Float32Array; shape: number[] }): Promise<{ data: Float32Array; shape: number[] }> {
  const t = tf.tidy(() => tf.transpose(tf.tensor(x.data, x.shape), [0, 3, 1, 2]));
  const out = { data: (await t.data()) as Float32Array, shape: t.shape };
  t.dispose();
  return out;
}
