// npm's postinstall: makes miniflare's encoding of the workerd config linear in the worker's size.
//
// miniflare hands workerd its config as one Cap'n Proto message, built in capnp-es's single-segment arena. That
// arena grows by the requested bytes only (at least 4 KiB), copying the whole buffer each time. Once the worker's
// 14 MB onnxruntime wasm is in the message, every later allocation copies it again: ~0.5 s of every start of
// `wrangler dev`, the benchmarks' workerd and the workerd test pool goes into these copies (`node --cpu-prof`:
// capnp-es `allocate` 14% of the process; miniflare ready 1.1 s -> 0.6 s with this patch). Growing
// geometrically (at least doubling) makes it linear. The encoded message is the same: its length comes from the
// segment's used bytes, not from the buffer's size.
//
// Idempotent; if miniflare's code has changed (a newer release), it says so and leaves the file as it is.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const LINEAR = '  s.buffer = new ArrayBuffer(srcBuffer.byteLength + minSize);';
const GEOMETRIC = '  s.buffer = new ArrayBuffer(srcBuffer.byteLength + Math.max(minSize, srcBuffer.byteLength)); // patched: scripts/patch-miniflare.mjs';

/** The patched source and what was done: 'patched', 'already' (patched before) or 'not-found' (unchanged). */
export function patchMiniflareSource(source) {
  if (source.includes(GEOMETRIC)) return { source, status: 'already' };
  const at = source.indexOf(LINEAR);
  if (at < 0 || source.indexOf(LINEAR, at + 1) >= 0) return { source, status: 'not-found' };
  return { source: source.replace(LINEAR, GEOMETRIC), status: 'patched' };
}

/** miniflare's bundled code, or undefined when miniflare is not installed (a production install). */
export function miniflareBundlePath() {
  try {
    return createRequire(import.meta.url).resolve('miniflare');
  } catch {
    return undefined;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = miniflareBundlePath();
  if (!path) process.exit(0);
  const { source, status } = patchMiniflareSource(readFileSync(path, 'utf8'));
  if (status === 'patched') {
    writeFileSync(`${path}.tmp`, source);
    renameSync(`${path}.tmp`, path);
  }
  if (status === 'not-found') console.warn(`patch-miniflare: the arena growth line was not found in ${path}; left unchanged (starts stay ~0.5 s slower)`);
  else console.log(`patch-miniflare: ${status === 'patched' ? 'patched' : 'already patched'} ${path}`);
}
