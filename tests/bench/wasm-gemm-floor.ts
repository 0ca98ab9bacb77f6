/**
 * `node --import tsx tests/bench/wasm-gemm-floor.ts`: why in-isolate inference cannot get within 3x of
 * onnxruntime-node at batch 64. The DCGAN generator's cost is its first ConvTranspose (128 -> 64 channels, 7x7 ->
 * 14x14, 4x4 kernel: 411 M multiply-adds at batch 64). This times, in onnxruntime-web (wasm, 1 thread) and
 * onnxruntime-node (1 thread) in one process, that ConvTranspose alone, one MatMul with the same multiply-adds
 * ([3136, 128] x [128, 1024], the best shape for a GEMM), and the whole exported generator. Measured 2026-11-29
 * over three runs: the MatMul takes 59-75 ms in wasm and 22 ms in onnxruntime-node (3.0-3.4x), about what
 * onnxruntime-node needs for the whole graph (22-24 ms). wasm's 128-bit SIMD without fused multiply-add does
 * 5.5-7 G multiply-adds/s here; a GEMM alone is already at the 3x target.
 */
import { readFileSync } from 'node:fs';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { serializeModel, type OnnxGraph } from '../../trainer/export/onnx-model.js';
import { median } from './stats.js';

ortWeb.env.wasm.numThreads = 1;
const random = (n: number) => new Float32Array(n).map(() => Math.random() - 0.5);

const single = (op: string, x: number[], w: number[], y: number[], attrs: OnnxGraph['nodes'][number]['attrs'] = {}): OnnxGraph => ({
  name: op,
  nodes: [{ op, inputs: ['x', 'w'], outputs: ['y'], attrs }],
  initializers: [{ name: 'w', dims: w, data: random(w.reduce((a, b) => a * b)) }],
  inputs: [{ name: 'x', dtype: 'float32', shape: x }],
  outputs: [{ name: 'y', dtype: 'float32', shape: y }],
});

const cases: { name: string; graph: Uint8Array; input: [string, number[]] }[] = [
  { name: 'ConvTranspose 128->64, 7x7->14x14, batch 64', graph: serializeModel(single('ConvTranspose', [64, 128, 7, 7], [128, 64, 4, 4], [64, 64, 14, 14], { kernel_shape: { ints: [4, 4] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } }), 'bench'), input: ['x', [64, 128, 7, 7]] },
  { name: 'MatMul [3136,128] x [128,1024] (same multiply-adds)', graph: serializeModel(single('MatMul', [3136, 128], [128, 1024], [3136, 1024]), 'bench'), input: ['x', [3136, 128]] },
  { name: 'DCGAN generator (models/dcgan-fashion), batch 64', graph: readFileSync('models/dcgan-fashion/generator.onnx'), input: ['z', [64, 100]] },
];

async function time(ort: typeof ortWeb | typeof ortNode, graph: Uint8Array, [name, dims]: [string, number[]], options: object): Promise<number> {
  const session = await (ort as typeof ortWeb).InferenceSession.create(graph, options);
  const feeds = { [name]: new (ort as typeof ortWeb).Tensor('float32', random(dims.reduce((a, b) => a * b)), dims) };
  const times: number[] = [];
  for (let i = 0; i < 23; i++) {
    const t = performance.now();
    await session.run(feeds);
    if (i >= 3) times.push(performance.now() - t);
  }
  await session.release();
  return median(times);
}

for (const c of cases) {
  const web = await time(ortWeb, c.graph, c.input, { executionProviders: ['wasm'] });
  const node = await time(ortNode, c.graph, c.input, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  console.log(`${c.name}: onnxruntime-web ${web.toFixed(1)} ms, onnxruntime-node ${node.toFixed(1)} ms (${(web / node).toFixed(2)}x)`);
}
