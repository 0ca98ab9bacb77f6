/**
 * The one module that imports onnxruntime-web. Workers forbid compiling WebAssembly from bytes at run time, so
 * in a Worker the caller passes the ORT wasm as a precompiled WebAssembly.Module (worker.ts imports it); while a
 * session is created, WebAssembly.instantiate is redirected to that module, since onnxruntime-web offers no
 * instantiate hook (docs/architecture.md, "onnxruntime-web inside workerd"). Elsewhere (browsers, Node) ORT loads its wasm itself.
 */
import * as ort from 'onnxruntime-web/wasm';
import { EXECUTION_PROVIDERS } from '../../shared/execution-providers.js';
import type { InferenceRuntime, InferenceSession, RuntimeTensor } from '../../shared/runtime.js';

export interface OrtWebOptions {
  /** The precompiled ort-wasm-simd-threaded.wasm; required inside workerd. */
  wasmModule?: WebAssembly.Module;
}

/**
 * One wasm instance does one thing at a time: every session creation, run and release goes through `exclusive`.
 * onnxruntime-web's run awaits between writing the inputs into the wasm heap and reading the outputs, and two runs
 * interleaved there corrupt each other (measured in Node with 32 concurrent mixed requests: 530 of 1000 failed
 * with "null function or function signature mismatch"; none with this queue). Waiting here never spans I/O, so
 * workerd does not see a waiting request as hung.
 */
type Exclusive = <T>(work: () => Promise<T>) => Promise<T>;

function wrap(session: ort.InferenceSession, exclusive: Exclusive): InferenceSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds: Record<string, RuntimeTensor>) =>
      exclusive(async () => {
        const inputs: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.dtype, t.data, t.dims);
        const result = await session.run(inputs);
        const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
        for (const [name, t] of Object.entries(result)) {
          out[name] = { data: t.data as Float32Array, dims: t.dims };
          t.dispose();
        }
        return out;
      }),
    release: () => exclusive(() => session.release()),
  };
}

export function createOrtWebRuntime(opts: OrtWebOptions = {}): InferenceRuntime {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive: Exclusive = (work) => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };
  const { wasmModule } = opts;
  if (wasmModule) ort.env.wasm.wasmBinary = new Uint8Array([0]); // placeholder: stops ORT from fetching a URL

  async function create(graph: Uint8Array): Promise<InferenceSession> {
    if (!wasmModule) return wrap(await ort.InferenceSession.create(graph, { executionProviders: [...EXECUTION_PROVIDERS.worker] }), exclusive);
    // The instantiate redirection must not interleave with anything else in this isolate: create runs exclusively.
    const original = WebAssembly.instantiate;
    WebAssembly.instantiate = ((source: unknown, imports?: WebAssembly.Imports) =>
      source instanceof WebAssembly.Module
        ? original(source, imports)
        : original(wasmModule, imports).then((instance) => ({ instance, module: wasmModule }))) as typeof WebAssembly.instantiate;
    try {
      return wrap(await ort.InferenceSession.create(graph, { executionProviders: [...EXECUTION_PROVIDERS.worker] }), exclusive);
    } finally {
      WebAssembly.instantiate = original;
    }
  }

  return {
    name: 'onnxruntime-web/wasm',
    createSession: (graph) => exclusive(() => create(graph)),
  };
}
