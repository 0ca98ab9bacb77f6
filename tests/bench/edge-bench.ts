/**
 * Edge benchmarks through a locally started worker (the deployable bundle on workerd, loopback, requests straight
 * to the worker's socket): latency and throughput of sample.png and grid.png (sequential and concurrent), the
 * cache, cold start, memory, in-isolate inference (Server-Timing) against onnxruntime-node on the same graph, and
 * a mixed load test. For reference, the sequential latencies again through miniflare's entry worker and assets
 * router (wrangler dev's request path), and `wrangler dev`'s cold start, for what `npm start` costs.
 */
import { readFileSync } from 'node:fs';
import { OrtTensor, openSession } from '../../trainer/export/ort-node.js';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { latentsForSeed } from '../../shared/latent.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { encodePng } from '../../shared/png.js';
import { runLoad, serverTimingMedians, type LoadResult, type RequestSpec } from './http-load.js';
import { startLocalWorker, type LocalWorker } from '../helpers/local-worker.js';
import { startWorkerd, type WorkerBundle } from '../helpers/workerd-worker.js';
import { median, summarize, type LatencySummary } from './stats.js';

const manifests = bundledManifests.map((b) => ({ dir: b.dir, manifest: validateManifest(b.manifest) }));
const byFamily = (f: Manifest['family']) => manifests.find((m) => m.manifest.family === f)!;

export interface EdgeResults {
  model: string;
  /** From starting workerd (with the built bundle) to the first image; median of 3 fresh starts. */
  coldStartMs: number;
  /** Of which: from workerd listening to the first image (ORT init, session, first inference). */
  firstImageMs: number;
  /** From spawning `wrangler dev` (which bundles first) to the first image: what `npm start` costs. */
  wranglerDevColdStartMs: number;
  /** A 404 (no model runs, nothing cached): the floor of the request path. */
  notFound: LatencySummary;
  sample: { sequential: LatencySummary; repeatedSeed: LatencySummary; c8: LatencySummary; c32: LatencySummary };
  /** The same sequential requests through miniflare's entry worker and assets router, as under `wrangler dev`. */
  throughMiniflare: { notFound: LatencySummary; sequential: LatencySummary; repeatedSeed: LatencySummary };
  /**
   * The same again through `wrangler dev` itself (`npm start`): its port is a second workerd whose ProxyWorker (a
   * Durable Object that holds requests during reloads) forwards each request over loopback HTTP to the first one's
   * entry worker. No setting of wrangler 4.164 removes that hop; none of our targets include it.
   */
  throughWranglerDev?: { notFound: LatencySummary; sequential: LatencySummary; repeatedSeed: LatencySummary };
  grid64: { sequential: LatencySummary; c8: LatencySummary; c32: LatencySummary };
  inIsolate: { batch1InferMs: number; batch64InferMs: number; batch1PngMs: number; batch64PngMs: number };
  /**
   * In-isolate inference and onnxruntime-node on the same graph, in alternating blocks (`pairedInference`):
   * medians, in ms, and the median of the blocks' ratios.
   */
  paired: { batch1: PairedInference; batch64: PairedInference };
  ratios: { grid64EndToEndOverInference: number; inIsolateOverNodeBatch64: number; inIsolateOverNodeBatch1: number };
  memoryMiB: { afterBenchRss: number; peak: number };
  /**
   * The largest colour model bundled (64x64 RGB emoji): sample.png with distinct seeds, sequentially, and its
   * in-isolate inference beside onnxruntime-node on the same graph.
   */
  colour?: { model: string; image: string; sample: LatencySummary; paired: PairedInference };
  /** Requests of the latency phases not answered with 200 (404 for the 404 phases), with the first messages. */
  phaseErrors?: { failed: number; of: number; first: string[]; workerLog?: string };
  load?: LoadResults;
}

export interface PairedInference {
  isolateMs: number;
  nodeMs: number;
  ratio: number;
}

export interface LoadResults {
  requests: number;
  concurrency: number;
  statuses: Record<string, number>;
  errors: string[];
  latency: LatencySummary;
  /**
   * RSS of the workerd process after each tenth of the run, then after a full garbage collection of every isolate
   * in it. Between collections V8 lets garbage pile up (the JS heaps are small, so it seldom runs a full GC) and
   * RSS climbs, by hundreds of MiB over 20,000 requests, for a worker that only returns JSON too; collected, it is
   * back to its level after warm-up.
   */
  rssMiB: number[];
  rssAfterGcMiB: number[];
  /** Largest RSS after a collection, from the second tenth on, over the first tenth's (after warm-up). */
  rssAfterGcGrowthMiB: number;
  /** The worker isolate's V8 heap in use after each tenth's collection, and its largest value after the first. */
  isolateHeapUsedMiB: number[];
  isolateHeapMaxAfterWarmupMiB: number;
  workerLog?: string;
}

/**
 * In-isolate inference (the Server-Timing of rendered requests) and onnxruntime-node on the same graph and batch
 * (one thread, as in the isolate), in alternating blocks of `perBlock` runs each, the first of each block not
 * counted: medians of each, and the median of the blocks' ratios. This machine's speed drifts by up to 2x within a
 * minute (the same batch-64 run took 60-130 ms in Node and 71-126 ms in workerd in back-to-back runs), so runtimes
 * timed minutes apart gave ratios from 3.3x to 5.1x. Runs alternating one by one slow both (each evicts the other's
 * weights from the caches: onnxruntime-node's batch 1 took 1.36 ms instead of 0.47), hence blocks.
 */
async function pairedInference(base: string, dir: string, m: Manifest, batch: number, blocks: number, perBlock: number, route: (i: number) => string): Promise<PairedInference> {
  const session = await openSession(readFileSync(`models/${dir}/${m.graphs.generator!.file}`), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const z = new OrtTensor('float32', latentsForSeed(1, batch, m.latent.size, m.latent.distribution), [batch, m.latent.size]);
  const isolate: number[] = [];
  const node: number[] = [];
  const ratios: number[] = [];
  let request = 0;
  for (let b = 0; b < blocks + 1; b++) {
    const inIsolate = serverTimingMedians((await runLoad(base, perBlock, 1, () => ({ path: route(request++) }))).serverTimings.slice(1)).inferMs;
    const onNode: number[] = [];
    for (let i = 0; i < perBlock; i++) {
      const t = performance.now();
      await session.run({ z });
      if (i > 0) onNode.push(performance.now() - t);
    }
    if (b === 0) continue; // warm-up
    isolate.push(inIsolate);
    node.push(median(onNode));
    ratios.push(inIsolate / median(onNode));
  }
  await session.release();
  return { isolateMs: median(isolate), nodeMs: median(node), ratio: median(ratios) };
}

/** The mixed public-route traffic of the load test: request i. */
export function mixedRequest(i: number): RequestSpec {
  const dcgan = byFamily('dcgan').manifest;
  const cgan = byFamily('cgan').manifest;
  const vae = byFamily('vae').manifest;
  const models = manifests.map((m) => m.manifest);
  const m = models[i % models.length]!;
  const cls = m.classes.count > 0 ? `&class=${i % m.classes.count}` : '';
  const json = (body: unknown): RequestSpec["init"] => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  switch (i % 10) {
    case 0: case 1: case 2:
      return { path: `/v1/models/${m.id}/sample.png?seed=${100_000 + i}${cls}` };
    case 3:
      return { path: `/v1/models/${m.id}/sample.png?seed=7${cls}` };
    case 4:
      return { path: `/v1/models/${m.id}/grid.png?seed=${i}&n=16` };
    case 5:
      return { path: `/v1/models/${m.id}/interpolate.png?from=${i}&to=${i + 1}&steps=8${cls}` };
    case 6:
      return { path: `/v1/models/${m.id}/latents?seed=${i}&n=4` };
    case 7:
      return { path: i % 20 === 7 ? '/v1/models' : `/v1/models/${m.id}` };
    case 8:
      return i % 20 === 8
        ? { path: `/v1/models/${dcgan.id}/generate`, init: json({ latents: Array.from({ length: 2 }, (_, r) => Array.from(latentsForSeed(i + r, 1, dcgan.latent.size, dcgan.latent.distribution))) }) }
        : { path: `/v1/models/${cgan.id}/generate`, init: json({ latents: [Array.from(latentsForSeed(i, 1, cgan.latent.size, cgan.latent.distribution))], classes: [i % cgan.classes.count], format: 'json' }) };
    default: {
      const png = encodePng({ width: vae.image.width, height: vae.image.height, channels: 1, data: new Uint8Array(vae.image.width * vae.image.height).map((_, p) => (p * 7 + i) & 255) });
      return { path: `/v1/models/${vae.id}/${i % 20 === 9 ? 'encode' : 'reconstruct'}`, init: { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png } };
    }
  }
}

/** Median cold start of `runs` fresh starts of `start` (each stopped again). */
async function medianColdStart(runs: number, start: () => Promise<LocalWorker>): Promise<{ coldStartMs: number; firstImageMs: number }> {
  const starts: { coldStartMs: number; firstImageMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const w = await start();
    await w.stop();
    starts.push({ coldStartMs: w.coldStartMs, firstImageMs: w.firstImageMs });
  }
  return { coldStartMs: median(starts.map((s) => s.coldStartMs)), firstImageMs: median(starts.map((s) => s.firstImageMs)) };
}

export async function benchEdge(opts: { quick: boolean; loadRequests: number; port: number; bundle: WorkerBundle }, log: (line: string) => void): Promise<EdgeResults> {
  const { dir, manifest: m } = byFamily('dcgan');
  const scale = opts.quick ? 0.2 : 1;
  const n = (k: number) => Math.max(10, Math.round(k * scale));
  const first = `/v1/models/${m.id}/sample.png?seed=1`;
  const runs = opts.quick ? 1 : 3;
  const dev = await medianColdStart(runs, () => startLocalWorker(opts.port + 10, first));
  log(`wrangler dev: ${dev.coldStartMs.toFixed(0)} ms from process start (bundling included) to first image (median of ${runs})`);
  const cold = await medianColdStart(runs, () => startWorkerd(opts.bundle, opts.port, first));
  log(`workerd: ${cold.coldStartMs.toFixed(0)} ms from start to first image, ${cold.firstImageMs.toFixed(0)} ms of it from listening (median of ${runs})`);
  const path = (route: string) => `/v1/models/${m.id}/${route}`;
  /** Warm-up, then a 404, distinct seeds and a repeated seed, sequentially. */
  const sequential = async (base: string, seeds: number) => {
    await runLoad(base, 30, 1, (i) => ({ path: path(`sample.png?seed=${seeds + 50 + i}`) }));
    const notFound = await runLoad(base, n(400), 1, () => ({ path: '/v1/no-such-route' }));
    const seq = await runLoad(base, n(400), 1, (i) => ({ path: path(`sample.png?seed=${seeds + 10_000 + i}`) }));
    const repeat = await runLoad(base, n(400), 1, () => ({ path: path(`sample.png?seed=${seeds + 10_000}`) }));
    return { notFound, seq, repeat };
  };
  const viaMiniflare = await startWorkerd(opts.bundle, opts.port + 20, first, 'miniflare');
  const reference = await sequential(viaMiniflare.base, 500_000).finally(() => viaMiniflare.stop());
  const viaDev = await startLocalWorker(opts.port + 30, first);
  const throughDev = await sequential(viaDev.base, 700_000).finally(() => viaDev.stop());
  const worker = await startWorkerd(opts.bundle, opts.port, first);
  try {
    await runLoad(worker.base, 5, 1, (i) => ({ path: path(`grid.png?seed=${60 + i}&n=64`) }));
    const { notFound, seq, repeat } = await sequential(worker.base, 0);
    const c8 = await runLoad(worker.base, n(1000), 8, (i) => ({ path: path(`sample.png?seed=${20_000 + i}`) }));
    const c32 = await runLoad(worker.base, n(2000), 32, (i) => ({ path: path(`sample.png?seed=${30_000 + i}`) }));
    const grid = await runLoad(worker.base, n(60), 1, (i) => ({ path: path(`grid.png?seed=${40_000 + i}&n=64`) }));
    const grid8 = await runLoad(worker.base, n(80), 8, (i) => ({ path: path(`grid.png?seed=${41_000 + i}&n=64`) }));
    const grid32 = await runLoad(worker.base, n(128), 32, (i) => ({ path: path(`grid.png?seed=${42_000 + i}&n=64`) }));
    const one = serverTimingMedians(seq.serverTimings);
    const many = serverTimingMedians(grid.serverTimings);
    const paired1 = await pairedInference(worker.base, dir, m, 1, opts.quick ? 3 : 10, 21, (i) => path(`sample.png?seed=${43_000 + i}`));
    const paired64 = await pairedInference(worker.base, dir, m, 64, opts.quick ? 3 : 10, 5, (i) => path(`grid.png?seed=${44_000 + i}&n=64`));
    const results: EdgeResults = {
      model: m.id,
      coldStartMs: Math.round(cold.coldStartMs),
      firstImageMs: Math.round(cold.firstImageMs),
      wranglerDevColdStartMs: Math.round(dev.coldStartMs),
      notFound: summarize(notFound.latencies, notFound.wallMs),
      throughMiniflare: {
        notFound: summarize(reference.notFound.latencies, reference.notFound.wallMs),
        sequential: summarize(reference.seq.latencies, reference.seq.wallMs),
        repeatedSeed: summarize(reference.repeat.latencies, reference.repeat.wallMs),
      },
      throughWranglerDev: {
        notFound: summarize(throughDev.notFound.latencies, throughDev.notFound.wallMs),
        sequential: summarize(throughDev.seq.latencies, throughDev.seq.wallMs),
        repeatedSeed: summarize(throughDev.repeat.latencies, throughDev.repeat.wallMs),
      },
      sample: { sequential: summarize(seq.latencies, seq.wallMs), repeatedSeed: summarize(repeat.latencies, repeat.wallMs), c8: summarize(c8.latencies, c8.wallMs), c32: summarize(c32.latencies, c32.wallMs) },
      grid64: { sequential: summarize(grid.latencies, grid.wallMs), c8: summarize(grid8.latencies, grid8.wallMs), c32: summarize(grid32.latencies, grid32.wallMs) },
      inIsolate: { batch1InferMs: one.inferMs, batch64InferMs: many.inferMs, batch1PngMs: one.pngMs, batch64PngMs: many.pngMs },
      paired: { batch1: roundAll(paired1), batch64: roundAll(paired64) },
      ratios: {
        grid64EndToEndOverInference: round(summarize(grid.latencies, grid.wallMs).p50 / many.inferMs),
        inIsolateOverNodeBatch64: round(paired64.ratio),
        inIsolateOverNodeBatch1: round(paired1.ratio),
      },
      memoryMiB: { afterBenchRss: worker.memory().rssMiB, peak: worker.memory().peakMiB },
    };
    const colourModel = bundledManifests.map((b) => ({ dir: b.dir, manifest: validateManifest(b.manifest) })).filter((b) => b.manifest.image.channels === 3 && b.manifest.classes.count === 0)
      .sort((a, b) => b.manifest.image.width - a.manifest.image.width)[0];
    const colourPhases: LoadResult[] = [];
    if (colourModel) {
      const cm = colourModel.manifest;
      const cpath = (route: string) => `/v1/models/${cm.id}/${route}`;
      await runLoad(worker.base, 30, 1, (i) => ({ path: cpath(`sample.png?seed=${45_000 + i}`) }));
      const cseq = await runLoad(worker.base, n(400), 1, (i) => ({ path: cpath(`sample.png?seed=${46_000 + i}`) }));
      colourPhases.push(cseq);
      const cpaired = await pairedInference(worker.base, colourModel.dir, cm, 1, opts.quick ? 3 : 10, 21, (i) => cpath(`sample.png?seed=${47_000 + i}`));
      results.colour = { model: cm.id, image: `${cm.image.width}x${cm.image.height}x${cm.image.channels}`, sample: summarize(cseq.latencies, cseq.wallMs), paired: roundAll(cpaired) };
      log(`colour ${cm.id}: sample.png p50 ${results.colour.sample.p50} ms; in isolate ${results.colour.paired.isolateMs} ms vs onnxruntime-node ${results.colour.paired.nodeMs} ms (ratio ${results.colour.paired.ratio})`);
    }
    // Failed requests are counted, not fatal: the run should still report everything else.
    const phases = [reference.seq, reference.repeat, seq, repeat, c8, c32, grid, grid8, grid32, ...colourPhases];
    const total = (r: LoadResult) => [...r.statuses.values()].reduce((a, b) => a + b, 0);
    const notFounds = [reference.notFound, notFound];
    const failed = phases.reduce((sum, r) => sum + total(r) - (r.statuses.get(200) ?? 0), 0) + notFounds.reduce((sum, r) => sum + total(r) - (r.statuses.get(404) ?? 0), 0);
    results.phaseErrors = { failed, of: [...phases, ...notFounds].reduce((sum, r) => sum + total(r), 0), first: phases.flatMap((r) => r.errors).slice(0, 5), ...(failed > 0 ? { workerLog: worker.logTail(2000) } : {}) };
    if (opts.loadRequests > 0) results.load = await loadTest(worker, opts.loadRequests, log);
    return results;
  } finally {
    await worker.stop();
  }
}

async function loadTest(worker: LocalWorker, count: number, log: (line: string) => void): Promise<LoadResults> {
  const rss: number[] = [];
  const rssAfterGc: number[] = [];
  const heap: number[] = [];
  const tenth = Math.ceil(count / 10);
  // Collections run one after another, while the load goes on.
  let measuring = Promise.resolve();
  const r = await runLoad(worker.base, count, 32, mixedRequest, (done) => {
    if (done % tenth !== 0) return;
    rss.push(worker.memory().rssMiB);
    measuring = measuring.then(async () => {
      await worker.collectGarbage();
      rssAfterGc.push(worker.memory().rssMiB);
      const h = await worker.isolateHeap();
      heap.push(h.usedMiB);
      log(`load: ${done}/${count} requests, isolate heap ${h.usedMiB} MiB used of ${h.totalMiB}, workerd RSS ${rss.at(-1)} MiB, ${rssAfterGc.at(-1)} MiB after a full GC`);
    });
  });
  await measuring;
  await new Promise((res) => setTimeout(res, 200));
  return {
    requests: count,
    concurrency: 32,
    statuses: Object.fromEntries([...r.statuses.entries()].map(([k, v]) => [String(k), v])),
    errors: r.errors,
    latency: summarize(r.latencies, r.wallMs),
    rssMiB: rss,
    rssAfterGcMiB: rssAfterGc,
    rssAfterGcGrowthMiB: round(Math.max(...rssAfterGc.slice(1)) - rssAfterGc[0]!),
    isolateHeapUsedMiB: heap,
    isolateHeapMaxAfterWarmupMiB: Math.max(...heap.slice(1)),
    // What workerd said when requests failed (a restarted worker, an exceeded limit), to explain them.
    ...(r.errors.length > 0 ? { workerLog: worker.logTail(3000) } : {}),
  };
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const roundAll = (p: PairedInference): PairedInference => ({ isolateMs: round(p.isolateMs), nodeMs: round(p.nodeMs), ratio: round(p.ratio) });
