/**
 * The Cloudflare Worker entry, and the one place that deals with Worker specifics: the ORT wasm arrives as a
 * precompiled module import (wrangler compiles *.wasm imports), the models as bundled Data modules.
 */
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import { bundledModels } from '../models/bundled.js';
import { createApp } from './app.js';
import { createOrtWebRuntime } from './ort-web-runtime.js';

export default createApp({ models: bundledModels, runtime: createOrtWebRuntime({ wasmModule: ortWasm }) });
