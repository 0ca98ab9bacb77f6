/**
 * The native kernels' graphs (trainer/backend/kernels/*-graphs.ts) at a DCGAN's real sizes: the same bits on one
 * thread and on two, so that a run's weights do not depend on the thread count (onnxruntime splits a reduction or a
 * product between threads only where each thread's part is summed in the same order).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { serializeModel, type OnnxGraph } from '../../trainer/export/onnx-model.js';
import { batchNormForwardGraph, batchNormGradientGraph } from '../../trainer/backend/kernels/batch-norm-graphs.js';
import { convFilterGradientGraph, convForwardGraph, convInputGradientGraph, matMulGraph, type ConvGeometry } from '../../trainer/backend/kernels/gemm-conv-graphs.js';

const values = (shape: number[], phase: number) => new ort.Tensor('float32', Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + phase) * 3 + 0.5), shape);
const layer = (side: number, inChannels: number, outChannels: number): ConvGeometry => ({
  batch: 64, inHeight: side, inWidth: side, inChannels, outHeight: side / 2, outWidth: side / 2, outChannels,
  filterHeight: 4, filterWidth: 4, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1,
});

const cases: [string, () => [OnnxGraph, Record<string, ort.Tensor>]][] = [
  ['batch norm + LeakyReLU [64, 32, 32, 32]', () => [batchNormForwardGraph([64, 32, 32, 32], 1e-5, 0.2), { x: values([64, 32, 32, 32], 1), gamma: values([32], 2), beta: values([32], 3) }]],
  ['its gradient', () => [batchNormGradientGraph([64, 32, 32, 32], 1e-5, 0.2), { dy: values([64, 32, 32, 32], 1), y: values([64, 32, 32, 32], 2), x: values([64, 32, 32, 32], 3), mean: values([32], 4), variance: new ort.Tensor('float32', new Float32Array(32).fill(2), [32]), gamma: values([32], 5) }]],
  ['batch norm + ReLU [64, 4096] (G after its dense layer)', () => [batchNormForwardGraph([64, 4096], 1e-5, 0), { x: values([64, 4096], 1), gamma: values([4096], 2), beta: values([4096], 3) }]],
  ['convolution 64 -> 128 at 16x16', () => [convForwardGraph(layer(16, 64, 128)), { x: values([64, 16, 16, 64], 1), w: values([4, 4, 64, 128], 2) }]],
  ['input gradient by windows, 32 <- 64 at 32x32', () => [convInputGradientGraph(layer(32, 32, 64)), { dy: values([64, 16, 16, 64], 1), w: values([4, 4, 32, 64], 2) }]],
  ['input gradient by col2im, 128 <- 256 at 8x8', () => [convInputGradientGraph(layer(8, 128, 256)), { dy: values([64, 4, 4, 256], 1), w: values([4, 4, 128, 256], 2) }]],
  ['dense layer [64, 100] x [100, 4096]', () => [matMulGraph([64, 100], [100, 4096], false, false), { a: values([64, 100], 1), b: values([100, 4096], 2) }]],
  ['its filter gradient z^T . dy (a transposed operand)', () => [matMulGraph([64, 100], [64, 4096], true, false), { a: values([64, 100], 1), b: values([64, 4096], 2) }]],
  ['filter gradient of the RGB layer at 64x64 (folded, in parts)', () => [convFilterGradientGraph(layer(64, 3, 32)), { x: values([64, 64, 64, 3], 1), dy: values([64, 32, 32, 32], 2) }]],
];

describe('native graphs on one thread and on two', () => {
  it.each(cases)('%s: bit-identical', async (_name, build) => {
    const [graph, feeds] = build();
    const model = serializeModel(graph, 'test', 18);
    const run = async (threads: number) => (await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 })).run(feeds);
    const [one, two] = [await run(1), await run(2)];
    expect(Object.keys(one).length).toBeGreaterThan(0);
    const bytes = (t: ort.Tensor) => {
      const a = t.data as Float32Array;
      return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    };
    for (const name of Object.keys(one)) {
      expect((one[name]!.data as Float32Array).some((v) => v !== 0)).toBe(true);
      expect(bytes(two[name]!).equals(bytes(one[name]!))).toBe(true);
    }
  });
});
