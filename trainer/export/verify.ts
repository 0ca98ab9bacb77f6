/**
 * The exporter's self-check: the written graph, run by onnxruntime-node, must reproduce the tfjs network on
 * seeded inputs within a tolerance, or the export fails.
 */
import { OrtTensor, openSession, } from './ort-node.js';
import { tf } from '../backend/tf.js';
import type { Network } from '../nn/network.js';

export class ExportError extends Error {
  override name = 'ExportError';
}

export interface ParityResult {
  maxAbsDiff: number;
  count: number;
}

export interface Feed {
  dtype: 'float32' | 'int64';
  data: Float32Array | BigInt64Array;
  dims: number[];
}

/** The parity inputs as the tfjs network sees them, and the one-hot labels of a network that reads them in its layers. */
export interface TfInput {
  data: Float32Array;
  shape: number[];
  labels?: { data: Float32Array; shape: number[] };
}

/**
 * Runs `graph` on `feeds` and compares every output with the tfjs network in inference mode on `tfInput` (the
 * same inputs as the network sees them: NHWC images, or [z | one-hot] for a conditional generator). Image outputs
 * are compared in NCHW, the graph's layout.
 */
export async function checkParity(graph: Uint8Array, network: Network, feeds: Record<string, Feed>, tfInput: TfInput, outputNames: string[], tolerance: number): Promise<ParityResult> {
  const session = await openSession(graph);
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, new OrtTensor(f.dtype, f.data, f.dims)]));
  let result: Awaited<ReturnType<typeof session.run>>;
  try {
    result = await session.run(ortFeeds);
  } finally {
    await session.release(); // also when run throws (a graph that opens but cannot run)
  }
  const expected = tf.tidy(() => {
    const labels = tfInput.labels ? { labels: tf.tensor(tfInput.labels.data, tfInput.labels.shape) } : {};
    const y = network.apply(tf.tensor(tfInput.data, tfInput.shape), { training: false, ...labels });
    return y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y;
  });
  const want = (await expected.data()) as Float32Array;
  expected.dispose();
  const n = tfInput.shape[0]!;
  // Outputs split along axis 1 (an encoder's mean and logvar) are compared against the matching columns.
  const cols = want.length / n;
  const per = cols / outputNames.length;
  let maxAbsDiff = 0;
  outputNames.forEach((name, k) => {
    const got = result[name]!.data as Float32Array;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < per; j++) {
        const d = Math.abs(got[i * per + j]! - want[i * cols + k * per + j]!);
        if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
      }
    }
  });
  if (!(maxAbsDiff <= tolerance)) throw new ExportError(`ONNX graph differs from the tfjs model: max |diff| = ${maxAbsDiff} > ${tolerance}`);
  return { maxAbsDiff, count: n };
}

/** NHWC image data to NCHW, the graph's input layout. */
export async function toNchw(x: { data: Float32Array; shape: number[] }): Promise<Float32Array> {
  const t = tf.tidy(() => tf.transpose(tf.tensor(x.data, x.shape), [0, 3, 1, 2]));
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return out;
}
