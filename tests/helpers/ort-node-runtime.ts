/** The app's runtime interface backed by onnxruntime-node, for testing createApp in Node with real inference. */
import * as ort from 'onnxruntime-node';
import type { InferenceRuntime } from '../../edge/runtime.js';

export const ortNodeRuntime: InferenceRuntime = {
  name: 'onnxruntime-node',
  async createSession(graph) {
    const session = await ort.InferenceSession.create(graph);
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
