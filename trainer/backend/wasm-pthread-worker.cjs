'use strict';
/**
 * The pthread worker of tfjs-backend-wasm's threaded build, run by Node's worker_threads (see wasm-threads.ts).
 * tfjs hands its worker the emscripten glue as a Blob, which Node cannot import synchronously; the same glue is
 * shipped as a file, so the worker loads that file instead. Everything else is tfjs's own worker script.
 */
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
const gluePath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');

// The script expects to run at global scope, as a classic worker script would (tfjs escapes its newlines the same way).
Object.assign(globalThis, { require, __filename });
(0, eval)(wasmWorkerContents.replace(/\n/g, '\\n'));

const handle = globalThis.onmessage;
globalThis.onmessage = (event) => {
  if (event.data && event.data.cmd === 'load') event.data.urlOrBlob = gluePath;
  return handle(event);
};
