/**
 * The one module that imports onnxruntime-node: the exporter's parity check, the evaluation (models and rulers),
 * the benchmarks and the Node tests open their sessions here, with the execution providers the device map
 * (shared/execution-providers.ts) gives: `ORT_DEVICE=cuda` asks for node-cuda (an onnxruntime-node CUDA build,
 * ONNXRUNTIME_NODE_INSTALL=cuda at install time), anything else the CPU.
 */
import * as ort from 'onnxruntime-node';
import { EXECUTION_PROVIDERS, type Device } from '../../shared/execution-providers.js';
import type { InferenceRuntime } from '../../shared/runtime.js';

export { Tensor as OrtTensor } from 'onnxruntime-node';
export type OrtSession = ort.InferenceSession;

export function nodeDevice(): Device {
  return process.env['ORT_DEVICE'] === 'cuda' ? 'node-cuda' : 'node-cpu';
}

/** A session of `graph` on this machine's device; `options` add to (and may override) the defaults. */
export function openSession(graph: Uint8Array, options: ort.InferenceSession.SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(graph, { executionProviders: [...EXECUTION_PROVIDERS[nodeDevice()]], ...options });
}

/** The edge app's runtime interface (shared/runtime.ts) on onnxruntime-node: createApp in Node, eval, the bench. */
export const ortNodeRuntime: InferenceRuntime = {
  name: 'onnxruntime-node',
  async createSession(graph) {
    const session = await openSession(graph);
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      async run(feeds) {
        const inputs: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.dtype, t.data, t.dims);
        const result = await session.run(inputs);
        return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
      },
      release: () => session.release(),
    };
  },
};
