/**
 * `node --import tsx tests/bench/wasm-bounds-checks.ts [blocks]`: how much of the in-isolate / onnxruntime-node
 * gap is workerd's, not WebAssembly's. The deployable bundle runs on plain workerd twice, as is and with V8's
 * `--no-wasm-bounds-checks` (unsafe, for measurement only), beside onnxruntime-web in this Node process (which,
 * like Chrome, catches out-of-bounds accesses with a signal handler and guard pages instead of checking each
 * access), all on the DCGAN generator at batch 64 in alternating blocks. It prints the medians. Measured
 * 2026-11-29 in two runs: workerd 111 and 102 ms, without bounds checks 72 and 69 ms, onnxruntime-web in Node 84 and
 * 71 ms. workerd compiles wasm with an explicit check on every memory access: ~1.5x on this graph. Node, run with
 * `--wasm-enforce-bounds-checks`, slows as much (median 112 ms against 78).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web/wasm';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { latentsForSeed } from '../../shared/latent.js';
import { validateManifest } from '../../shared/manifest.js';
import { miniflareWorkerd, withPlainWorkerd } from '../helpers/plain-workerd.js';
import { buildBundle } from '../helpers/workerd-worker.js';
import { runLoad, serverTimingMedians } from './http-load.js';
import { median } from './stats.js';

const MODEL = 'dcgan-fashion';
const bundle = buildBundle();
const wasm = readdirSync(bundle.dir).filter((f) => f.endsWith('.wasm'));

/** The bundle on plain workerd: the worker on the socket, ASSETS a disk service on models/, no other binding. */
function files(port: number, v8Flags: string[]): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = { 'worker.js': readFileSync(join(bundle.dir, 'worker.js'), 'utf8') };
  for (const f of wasm) out[f] = readFileSync(join(bundle.dir, f));
  out['config.capnp'] = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w), (name = "assets", disk = (path = ${JSON.stringify(resolve('models'))})) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
  v8Flags = [ ${v8Flags.map((f) => JSON.stringify(f)).join(', ')} ]
);
const w :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js"), ${wasm.map((f) => `(name = "./${f}", wasm = embed "${f}")`).join(', ')} ],
  compatibilityDate = "2026-04-20",
  bindings = [ (name = "ASSETS", service = "assets") ]
);
`;
  return out;
}

let seed = 0;
/** Median in-isolate inference (Server-Timing) of `count` grids of 64 after one not counted. */
async function workerdBlock(port: number, count: number): Promise<number> {
  const r = await runLoad(`http://127.0.0.1:${port}`, count + 1, 1, () => ({ path: `/v1/models/${MODEL}/grid.png?seed=${800_000 + seed++}&n=64` }));
  return serverTimingMedians(r.serverTimings.slice(1)).inferMs;
}

ort.env.wasm.numThreads = 1;
const { dir, manifest } = bundledManifests.map((b) => ({ dir: b.dir, manifest: validateManifest(b.manifest) })).find((b) => b.manifest.id === MODEL)!;
const session = await ort.InferenceSession.create(readFileSync(`models/${dir}/${manifest.graphs.generator!.file}`), { executionProviders: ['wasm'] });
const z = new ort.Tensor('float32', latentsForSeed(1, 64, manifest.latent.size, manifest.latent.distribution), [64, manifest.latent.size]);
async function nodeBlock(count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= count; i++) {
    const t = performance.now();
    await session.run({ [session.inputNames[0]!]: z });
    if (i > 0) times.push(performance.now() - t);
  }
  return median(times);
}

const blocks = Number(process.argv[2] ?? 8);
const [A, B] = [8875, 8877];
const results: Record<string, number[]> = { 'workerd': [], 'workerd --no-wasm-bounds-checks': [], 'onnxruntime-web in Node': [] };
await withPlainWorkerd(miniflareWorkerd(), files(A, []), A, () =>
  withPlainWorkerd(miniflareWorkerd(), files(B, ['--no-wasm-bounds-checks']), B, async () => {
    await workerdBlock(A, 2);
    await workerdBlock(B, 2);
    for (let b = 0; b < blocks; b++) {
      results['workerd']!.push(await workerdBlock(A, 4));
      results['workerd --no-wasm-bounds-checks']!.push(await workerdBlock(B, 4));
      results['onnxruntime-web in Node']!.push(await nodeBlock(4));
    }
  }));
for (const [name, v] of Object.entries(results)) {
  const s = [...v].sort((a, b) => a - b);
  console.log(`${name}: median ${median(v).toFixed(0)} ms (blocks ${s[0]!.toFixed(0)}-${s.at(-1)!.toFixed(0)})`);
}
process.exit(0);
