// wrangler's build step (wrangler.toml [build]): copies the onnxruntime-web files browsers need into the static
// assets (models/_ort/, not committed), so the playground can run graphs on the device. Two builds: the JSPI one
// carries the WebGPU execution provider (the older JSEP wasm is over the 25 MiB asset limit), the plain one WebAssembly.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const from = 'node_modules/onnxruntime-web/dist';
const to = 'models/_ort';
const files = ['ort.jspi.bundle.min.mjs', 'ort-wasm-simd-threaded.jspi.mjs', 'ort-wasm-simd-threaded.jspi.wasm', 'ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
mkdirSync(to, { recursive: true });
for (const f of files) {
  const src = join(from, f);
  const dst = join(to, f);
  let fresh = false;
  try {
    fresh = statSync(dst).size === statSync(src).size && statSync(dst).mtimeMs >= statSync(src).mtimeMs;
  } catch {
    fresh = false;
  }
  if (!fresh) copyFileSync(src, dst);
}
