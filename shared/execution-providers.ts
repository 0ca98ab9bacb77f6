/**
 * The one map from a device to onnxruntime execution providers, in order of preference (each falls back to the
 * next): Node uses CUDA where an onnxruntime-node CUDA build and a GPU are there, else the CPU; a browser WebGPU
 * where it has an adapter, else WebAssembly; a Worker has WebAssembly alone (workerd has no WebGPU).
 */
export const EXECUTION_PROVIDERS = {
  'node-cuda': ['cuda', 'cpu'],
  'node-cpu': ['cpu'],
  'browser-webgpu': ['webgpu', 'wasm'],
  'browser-wasm': ['wasm'],
  worker: ['wasm'],
} as const satisfies Record<string, readonly string[]>;

export type Device = keyof typeof EXECUTION_PROVIDERS;
