/**
 * The one map from a device to onnxruntime execution providers, in order of preference (each falls back to the
 * next), used by every session the project opens: Node (trainer/export/ort-node.ts) uses CUDA where an
 * onnxruntime-node CUDA build and a GPU are there, else the CPU; the worker (edge/inference/ort-web-runtime.ts, also
 * under Node in the tests) WebAssembly alone (workerd has no WebGPU); the playground (edge/pages/playground.ts)
 * WebGPU where the browser gives an adapter, else WebAssembly. The playground's WebGPU entry has no WebAssembly
 * after it on purpose: the page says which engine draws, and ORT does not say when it fell back.
 */
export const EXECUTION_PROVIDERS = {
  'node-cuda': ['cuda', 'cpu'],
  'node-cpu': ['cpu'],
  'browser-webgpu': ['webgpu'],
  'browser-wasm': ['wasm'],
  worker: ['wasm'],
} as const satisfies Record<string, readonly string[]>;

export type Device = keyof typeof EXECUTION_PROVIDERS;
