/**
 * `npm run bench [-- --quick] [--only edge,trainer,bundle] [--load 20000] [--cases RGB]`: measures the edge and the
 * trainer on this machine, prints every number against its target, and writes docs/benchmarks.json and the table
 * between the bench markers in docs/benchmarks.md. `--cases` runs only the trainer cases whose name contains one of
 * its comma-separated parts (e.g. `--only trainer --cases RGB`: the colour DCGANs beside PyTorch) and writes nothing.
 */
import { cpus } from 'node:os';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../trainer/run/atomic.js';
import { spawn } from 'node:child_process';
import { benchEdge, type EdgeResults } from './edge-bench.js';
import type { TrainerResult } from './trainer-bench.js';
import { buildBundle } from '../helpers/workerd-worker.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Target {
  what: string;
  value: number;
  unit: string;
  target: string;
  met: boolean;
}

function targets(edge?: EdgeResults, trainer?: TrainerResult[], bundle?: { gzipKiB: number }): Target[] {
  const t: Target[] = [];
  const add = (what: string, value: number, unit: string, target: string, met: boolean) => t.push({ what, value, unit, target, met });
  if (edge) {
    add('sample.png, distinct seeds, sequential p50', edge.sample.sequential.p50, 'ms', '<= 5', edge.sample.sequential.p50 <= 5);
    add('sample.png, distinct seeds, sequential p99', edge.sample.sequential.p99, 'ms', '<= 25', edge.sample.sequential.p99 <= 25);
    add('sample.png, repeated seed (cache) p50', edge.sample.repeatedSeed.p50, 'ms', '<= 3', edge.sample.repeatedSeed.p50 <= 3);
    add('grid.png n=64 p50 / in-isolate inference (batch 64)', edge.ratios.grid64EndToEndOverInference, 'x', '<= 1.3', edge.ratios.grid64EndToEndOverInference <= 1.3);
    add('in-isolate inference / onnxruntime-node (1 thread, alternating blocks), batch 64', edge.ratios.inIsolateOverNodeBatch64, 'x', '<= 3', edge.ratios.inIsolateOverNodeBatch64 <= 3);
    add('cold start: workerd start to first image (bundle built)', edge.coldStartMs, 'ms', '<= 1500', edge.coldStartMs <= 1500);
    if (edge.phaseErrors) add(`latency phases: ${edge.phaseErrors.of} requests, not answered with 200`, edge.phaseErrors.failed, 'requests', '0', edge.phaseErrors.failed === 0);
    if (edge.load) {
      const fails = Object.entries(edge.load.statuses).filter(([s]) => Number(s) >= 400 || s === '0').reduce((n, [, c]) => n + c, 0);
      add(`load: ${edge.load.requests} mixed requests at c=32, errors`, fails, 'requests', '0', fails === 0);
      add('load: worker isolate heap, most in use after warm-up', edge.load.isolateHeapMaxAfterWarmupMiB, 'MiB', '<= 32 (flat; the isolate limit is 128 MB)', edge.load.isolateHeapMaxAfterWarmupMiB <= 32);
      add('load: workerd RSS after a full GC, growth after warm-up', edge.load.rssAfterGcGrowthMiB, 'MiB', '<= 32 (flat)', edge.load.rssAfterGcGrowthMiB <= 32);
    }
    if (edge.colour) add(`colour sample.png (${edge.colour.model}, ${edge.colour.image}), distinct seeds, sequential p50`, edge.colour.sample.p50, 'ms', '<= 10', edge.colour.sample.p50 <= 10);
  }
  if (bundle) add('bundle (gzip)', Math.round((bundle.gzipKiB / 1024) * 100) / 100, 'MiB', '<= 10 (paid plan)', bundle.gzipKiB <= 10 * 1024);
  const dcgan = trainer?.find((r) => r.family === 'dcgan');
  if (dcgan) add(`DCGAN training, batch 64, ${dcgan.backend}`, dcgan.stepsPerSecond, 'steps/s', '>= 1.5', dcgan.stepsPerSecond >= 1.5);
  // Only a ratio measured in this run: PyTorch beside the trainer, in alternating blocks (trainer-bench.ts).
  for (const r of trainer ?? []) {
    if (r.pytorch) add(`${r.family} DCGAN training / PyTorch ${r.pytorch.torch} CPU (${r.pytorch.stepsPerSecond} steps/s), same network, batch, images, ${r.pytorch.threads} threads, same run, ${r.backend}`, r.pytorch.ratio, 'x', '>= 0.8', r.pytorch.ratio >= 0.8);
  }
  return t;
}

function markdown(r: { edge?: EdgeResults; trainer?: TrainerResult[]; bundle?: { gzipKiB: number; totalKiB: number }; machine: string; date: string }, t: Target[]): string {
  const lines = [`Measured ${r.date.slice(0, 10)} on ${r.machine} with \`npm run bench\` (raw numbers: docs/benchmarks.json).`, '', '| measure | value | target | met |', '|---|---|---|---|'];
  for (const x of t) lines.push(`| ${x.what} | ${x.value} ${x.unit} | ${x.target} | ${x.met ? 'yes' : '**no**'} |`);
  if (r.edge) {
    const e = r.edge;
    const row = (name: string, s: { p50: number; p95: number; p99: number; perSecond: number }) => `| ${name} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.perSecond} |`;
    lines.push('', `Edge latency of the deployable bundle on workerd, loopback, requests straight to the worker (${e.model}; ms; requests/s):`, '', '| request | p50 | p95 | p99 | req/s |', '|---|---|---|---|---|');
    lines.push(row('404 (the request path alone), sequential', e.notFound), row('sample.png, distinct seeds, sequential', e.sample.sequential), row('sample.png, repeated seed (cache hit)', e.sample.repeatedSeed), row('sample.png, concurrency 8', e.sample.c8), row('sample.png, concurrency 32', e.sample.c32));
    lines.push(row('grid.png n=64, sequential', e.grid64.sequential), row('grid.png n=64, concurrency 8', e.grid64.c8), row('grid.png n=64, concurrency 32', e.grid64.c32));
    const via = e.throughMiniflare;
    lines.push('', "The same sequential requests through miniflare's entry worker and assets router (`wrangler dev`'s request path; not the targets' path):", '', '| request | p50 | p95 | p99 | req/s |', '|---|---|---|---|---|');
    lines.push(row('404', via.notFound), row('sample.png, distinct seeds', via.sequential), row('sample.png, repeated seed (cache hit)', via.repeatedSeed));
    const dev = e.throughWranglerDev;
    if (dev) {
      lines.push('', "And through `wrangler dev` itself (`npm start`: its ProxyWorker's own workerd in front of the above; not the targets' path):", '', '| request | p50 | p95 | p99 | req/s |', '|---|---|---|---|---|');
      lines.push(row('404', dev.notFound), row('sample.png, distinct seeds', dev.sequential), row('sample.png, repeated seed (cache hit)', dev.repeatedSeed));
    }
    lines.push('', '| inference, ms | batch 1 | batch 64 |', '|---|---|---|');
    const { batch1: p1, batch64: p64 } = e.paired;
    lines.push(`| in the isolate (onnxruntime-web, wasm; Server-Timing, whole ms), latency phases | ${e.inIsolate.batch1InferMs} | ${e.inIsolate.batch64InferMs} |`);
    lines.push(`| in the isolate, in blocks alternating with onnxruntime-node | ${p1.isolateMs} | ${p64.isolateMs} |`);
    lines.push(`| onnxruntime-node, same graph, 1 thread, in those blocks | ${p1.nodeMs} | ${p64.nodeMs} |`);
    lines.push(`| in the isolate / onnxruntime-node (median of the blocks) | ${p1.ratio} x | ${p64.ratio} x |`);
    lines.push(`| tiling + PNG encoding in the isolate | ${e.inIsolate.batch1PngMs} | ${e.inIsolate.batch64PngMs} |`);
    lines.push('', `Cold start: ${e.coldStartMs} ms from starting workerd to the first image, ${e.firstImageMs} ms of it from workerd listening (ORT init, session, first inference); \`wrangler dev\` (\`npm start\`, which bundles first): ${e.wranglerDevColdStartMs} ms. workerd memory ${e.memoryMiB.afterBenchRss} MiB RSS after the latency runs, peak ${e.memoryMiB.peak} MiB.`);
    if (e.load) lines.push(`Load test: ${e.load.requests} requests over all public routes at concurrency ${e.load.concurrency}: statuses ${JSON.stringify(e.load.statuses)}, p50 ${e.load.latency.p50} ms, p99 ${e.load.latency.p99} ms, ${e.load.latency.perSecond} req/s; isolate heap in use per tenth ${e.load.isolateHeapUsedMiB.join(', ')} MiB; workerd process RSS per tenth ${e.load.rssMiB.join(', ')} MiB, and after a full GC of every isolate ${e.load.rssAfterGcMiB.join(', ')} MiB.`);
  }
  if (r.trainer) {
    lines.push('', '| trainer (default config, batch 64) | backend | steps/s | images/s | without native kernels, same run, steps/s | PyTorch CPU, same run, steps/s | trainer / PyTorch |', '|---|---|---|---|---|---|---|');
    for (const x of r.trainer) {
      const ref = x.pytorch ? `${x.pytorch.stepsPerSecond} (${x.pytorch.torch}, ${x.pytorch.threads} threads) | ${x.pytorch.ratio} x` : x.pytorchAbsent ? 'absent | -' : '- | -';
      const wasm = x.withoutNative ? `${x.withoutNative.stepsPerSecond} (native ${x.withoutNative.speedup} x)` : '-';
      lines.push(`| ${x.family} | ${x.adapter ?? `${x.backend}, ${x.threads} threads`} | ${x.stepsPerSecond} | ${x.imagesPerSecond} | ${wasm} | ${ref} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The page whose table a full run rewrites. */
const BENCH_DOC = 'docs/benchmarks.md';

/** benchTrainer in a fresh process (trainer-process.ts says why), with this process's loader flags. */
function trainerInItsOwnProcess(quick: boolean, cases: string[]): Promise<TrainerResult[]> {
  const args = [...process.execArgv, 'tests/bench/trainer-process.ts', ...(quick ? ['--quick'] : []), ...(cases.length > 0 ? ['--cases', cases.join(',')] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as TrainerResult[]) : reject(new Error(`the trainer benchmark exited with code ${code}`))));
  });
}

async function main() {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { quick: { type: 'boolean', default: false }, only: { type: 'string', default: 'edge,bundle,trainer' }, load: { type: 'string', default: '20000' }, port: { type: 'string', default: '8799' }, cases: { type: 'string', default: '' } } });
  const cases = values.cases!.split(',').filter(Boolean);
  const only = new Set(values.only!.split(','));
  const date = new Date().toISOString();
  const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.versions.node}`;
  const built = only.has('edge') || only.has('bundle') ? buildBundle() : undefined;
  const edge = built && only.has('edge') ? await benchEdge({ quick: values.quick!, loadRequests: values.quick ? Math.min(2000, Number(values.load)) : Number(values.load), port: Number(values.port), bundle: built }, log) : undefined;
  const bundle = built && only.has('bundle') ? { totalKiB: built.totalKiB, gzipKiB: built.gzipKiB } : undefined;
  const trainer = only.has('trainer') ? await trainerInItsOwnProcess(values.quick!, cases) : undefined;
  const t = targets(edge, trainer, bundle);
  for (const x of t) log(`${x.met ? 'ok  ' : 'MISS'} ${x.what}: ${x.value} ${x.unit} (target ${x.target})`);
  const results = { date, machine, quick: values.quick, edge, bundle, trainer, targets: t };
  if (cases.length > 0) return; // a partial run: printed, not written over the full run's files
  await writeFileAtomic('docs/benchmarks.json', `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results, t);
  if (!values.quick) {
    const doc = await readFile(BENCH_DOC, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    if (doc.includes(start) && doc.includes(end)) {
      await writeFileAtomic(BENCH_DOC, `${doc.slice(0, doc.indexOf(start) + start.length)}\n${md}${doc.slice(doc.indexOf(end))}`);
      log(`updated the benchmark table in ${BENCH_DOC}`);
    }
  }
  log('wrote docs/benchmarks.json');
}

await main();
