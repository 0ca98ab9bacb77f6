/**
 * `node --import tsx tests/bench/registry-bench.ts`: what the registry's bookkeeping costs (issue 26), in Node with
 * createApp, onnxruntime-node and an in-memory R2 bucket that counts its calls:
 *   - pinned requests (`{id}@{version}/sample.png`) of a version held in the pinned cache, against the bundled model's
 *     unpinned URL: what resolving through the cache and the in-flight bookkeeping add;
 *   - unknown `{id}@{version}` URLs: R2 reads per 1,000 requests (the negative cache) and their latency;
 *   - a churn of 8 versions through the 4-slot pinned cache: loads, releases, and the sessions left open.
 * Prints a markdown table (docs/registry.md quotes it).
 */
import { createApp } from '../../edge/app.js';
import { ModelStore } from '../../edge/registry/store.js';
import { validateManifest } from '../../shared/manifest.js';
import { contentVersion } from '../../shared/content-version.js';
import { sha256Hex } from '../../shared/hash.js';
import { ortNodeRuntime } from '../../trainer/export/ort-node.js';
import { MemoryBucket } from '../helpers/memory-bucket.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import type { InferenceRuntime } from '../../shared/runtime.js';

const TOKEN = 'registry-bench-token-0123456789abcdef-01';
const dcgan = loadModelDir('models/dcgan-fashion');
const manifest = validateManifest(dcgan.manifest);
const graph = await dcgan.readFile('generator.onnx');

/** onnxruntime-node, counting sessions opened and released. */
const counts = { created: 0, released: 0 };
const runtime: InferenceRuntime = {
  name: 'ort-node (counted)',
  async createSession(bytes) {
    const s = await ortNodeRuntime.createSession(bytes);
    counts.created++;
    return { ...s, run: s.run.bind(s), release: async () => (counts.released++, s.release?.()) };
  },
};

const bucket = new MemoryBucket();
const store = new ModelStore(bucket.asBucket());
const app = createApp({ models: [dcgan], runtime, store, adminToken: TOKEN, syncSeconds: 30 });

/** Version `k` of model "bench": the DCGAN's graph with k in its ONNX doc_string (other bytes, same outputs). */
async function storeVersion(k: number): Promise<string> {
  const text = new TextEncoder().encode(`bench ${k}`);
  const bytes = new Uint8Array([...graph, 0x32, text.length, ...text]);
  const m = structuredClone(manifest);
  m.id = 'bench';
  m.graphs.generator!.sha256 = await sha256Hex(bytes);
  m.version = await contentVersion(m.graphs);
  await store.putVersion(m, new Map([['generator.onnx', bytes]]));
  return m.version;
}

async function timed(n: number, url: (i: number) => string, status: number): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await app.request(url(i));
    await res.arrayBuffer();
    if (res.status !== status) throw new Error(`${url(i)}: ${res.status}, expected ${status}`);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n / 2)]!, p95: ms[Math.floor(n * 0.95)]! };
}

const versions = await Promise.all(Array.from({ length: 8 }, (_, k) => storeVersion(k)));
const fmt = (x: number) => x.toFixed(2);
const rows: string[] = [];
const N = 400;

await timed(20, (i) => `/v1/models/${manifest.id}/sample.png?seed=${i}`, 200); // warm up
const unpinned = await timed(N, (i) => `/v1/models/${manifest.id}/sample.png?seed=${i}`, 200);
rows.push(`| bundled model, unpinned sample.png | ${N} | ${fmt(unpinned.p50)} | ${fmt(unpinned.p95)} | - |`);
await app.request(`/v1/models/bench@${versions[0]}/sample.png?seed=0`);
const pinned = await timed(N, (i) => `/v1/models/bench@${versions[0]}/sample.png?seed=${i}`, 200);
rows.push(`| registry version in the pinned cache, sample.png | ${N} | ${fmt(pinned.p50)} | ${fmt(pinned.p95)} | - |`);
const reads0 = bucket.calls.get;
const unknown = await timed(1000, () => '/v1/models/bench@0123456789ab/sample.png?seed=1', 404);
rows.push(`| unknown {id}@{version} (404) | 1000 | ${fmt(unknown.p50)} | ${fmt(unknown.p95)} | ${bucket.calls.get - reads0} R2 reads |`);
const before = { ...counts };
const churn = await timed(80, (i) => `/v1/models/bench@${versions[i % 8]}/sample.png?seed=${i}`, 200);
rows.push(`| 8 versions in turn through the 4-slot pinned cache | 80 | ${fmt(churn.p50)} | ${fmt(churn.p95)} | ${counts.created - before.created} loads, ${counts.released - before.released} releases |`);

console.log('| requests | n | p50 ms | p95 ms | store and sessions |\n|---|---|---|---|---|');
console.log(rows.join('\n'));
console.log(`\nsessions open at the end: ${counts.created - counts.released} (bundled 1 + pinned cache 4 = 5 held)`);
