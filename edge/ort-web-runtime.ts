/**
 * The one module that imports onnxruntime-web. Workers forbid compiling WebAssembly from bytes at run time, so
 * in a Worker the caller passes the ORT wasm as a precompiled WebAssembly.Module (worker.ts imports it); while a
 * session is created, WebAssembly.instantiate is redirected to that module, since onnxruntime-web offers no
 * instantiate hook (see ../shared/FINDINGS.md). Elsewhere (browsers, Node) ORT loads its wasm itself.
 */
import * as ort from 'onnxruntime-web/wasm';
import type { InferenceRuntime, InferenceSession, RuntimeTensor } from './runtime.js';

export interface OrtWebOptions {
  /** The precompiled ort-wasm-simd-threaded.wasm; required inside workerd. */
  wasmModule?: WebAssembly.Module;
}

function wrap(session: ort.InferenceSession): InferenceSession {
  return {
    async run(feeds: Record<string, RuntimeTensor>) {
      const inputs: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.dtype, t.data, t.dims);
      const result = await session.run(inputs);
      const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
      for (const [name, t] of Object.entries(result)) {
        out[name] = { data: t.data as Float32Array, dims: t.dims };
        t.dispose();
      }
      return out;
    },
    release: () => session.release(),
  };
}

export function createOrtWebRuntime(opts: OrtWebOptions = {}): InferenceRuntime {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  // Session creation is serialised: the instantiate redirection below must not interleave.
  let queue: Promise<unknown> = Promise.resolve();
  const { wasmModule } = opts;
  if (wasmModule) ort.env.wasm.wasmBinary = new Uint8Array([0]); // placeholder: stops ORT from fetching a URL

  async function create(graph: Uint8Array): Promise<InferenceSession> {
    if (!wasmModule) return wrap(await ort.InferenceSession.create(graph, { executionProviders: ['wasm'] }));
    const original = WebAssembly.instantiate;
    WebAssembly.instantiate = ((source: unknown, imports?: WebAssembly.Imports) =>
      source instanceof WebAssembly.Module
        ? original(source, imports)
        : original(wasmModule, imports).then((instance) => ({ instance, module: wasmModule }))) as typeof WebAssembly.instantiate;
    try {
      return wrap(await ort.InferenceSession.create(graph, { executionProviders: ['wasm'] }));
    } finally {
      WebAssembly.instantiate = original;
    }
  }

  return {
    name: 'onnxruntime-web/wasm',
    createSession(graph) {
      const next = queue.then(() => create(graph));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
