/**
 * `node --import tsx tests/bench/ort-output-copy.ts`: what onnxruntime-node's synchronous `run()` costs beyond the
 * graph for a large output. The native kernels pre-allocate each output on the wasm heap, and onnxruntime writes it
 * there; the binding then copies it into a new ArrayBuffer for the result object anyway (1.30: its
 * OrtValueToNapiValue), which the kernels drop. Relu of N floats written into a pre-allocated output, against the
 * same Relu followed by a ReduceMax inside the graph (the same work, a 4-byte output), on 2 threads; and beside them
 * what a fresh buffer of the same size costs in plain JS.
 */
import { createRequire } from 'node:module';
import { serializeModel, type OnnxNode } from '../../trainer/export/onnx-model.js';
import { sessionOptions } from '../../trainer/backend/kernels/native-kernels.js';

interface Tensor {
  dims: readonly number[];
  data: Float32Array;
}
interface Session {
  loadModel(buffer: ArrayBufferLike, offset: number, length: number, options: object): void;
  run(feeds: Record<string, Tensor>, fetches: Record<string, Tensor>, options: object): Record<string, Tensor>;
}
const require = createRequire(import.meta.url);
const loaded = require('onnxruntime-node/dist/binding') as { binding: { InferenceSession: new () => Session }; initOrt(): void };
loaded.initOrt();
const OrtTensor = (require('onnxruntime-node') as { Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => Tensor }).Tensor;
const options = sessionOptions(2); // the native kernels' own

function open(n: number, nodes: OnnxNode[], out: number[]): Session {
  const bytes = serializeModel({ name: 'g', nodes, initializers: [], inputs: [{ name: 'x', dtype: 'float32', shape: [n] }], outputs: [{ name: 'y', dtype: 'float32', shape: out }] }, 'bench', 17);
  const s = new loaded.binding.InferenceSession();
  s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
  return s;
}

const ms = (f: () => void) => {
  for (let i = 0; i < 5; i++) f();
  const t = performance.now();
  for (let i = 0; i < 50; i++) f();
  return (performance.now() - t) / 50;
};

for (const mib of [1, 8, 32]) {
  const n = (mib * 2 ** 20) / 4;
  const x = new Float32Array(n).fill(-1);
  const y = new Float32Array(n);
  const scalar = new Float32Array(1);
  const relu = open(n, [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], [n]);
  const reluMax = open(n, [{ op: 'Relu', inputs: ['x'], outputs: ['r'] }, { op: 'ReduceMax', inputs: ['r'], outputs: ['y'], attrs: { keepdims: { i: 0 } } }], []);
  const feeds = () => ({ x: new OrtTensor('float32', x, [n]) });
  let copied = false;
  const out = ms(() => {
    const r = relu.run(feeds(), { y: new OrtTensor('float32', y, [n]) }, {});
    copied = r['y']!.data.buffer !== y.buffer;
  });
  const inside = ms(() => reluMax.run(feeds(), { y: new OrtTensor('float32', scalar, []) }, {}));
  // What any fresh buffer of that size costs in this process: allocating it (zeroed pages) and filling it.
  const fresh = ms(() => new Float32Array(n).set(x));
  const fill = ms(() => y.set(x));
  console.log(`${String(mib).padStart(2)} MiB: in plain JS a new Float32Array filled by set ${fresh.toFixed(2)} ms, set into an existing one ${fill.toFixed(2)} ms`);
  console.log(`${String(mib).padStart(2)} MiB: Relu into a pre-allocated output ${out.toFixed(2)} ms (result ${copied ? 'a copy' : 'our buffer'}), Relu + ReduceMax inside the graph ${inside.toFixed(2)} ms: ${((out - inside) / mib).toFixed(2)} ms a MiB more`);
}
