/**
 * The worker as it is deployed, on workerd, for the benchmarks: the bundle `wrangler deploy --dry-run` builds,
 * run by miniflare with the bindings wrangler.toml declares (R2, rate limiter, Cache API, vars) and fresh
 * in-memory state, on the workerd that wrangler brings. Unlike `wrangler dev` there is no dev proxy
 * in front (a second workerd process and an HTTP hop). Cold start is measured from starting workerd to the first
 * image.
 *
 * Where requests enter (`Entry`):
 * - 'worker': a socket on the worker's own fetch handler, as Cloudflare's edge hands a request to the isolate. The
 *   ASSETS binding is then a workerd disk service on models/: the worker only reads model files through it
 *   (run_worker_first: no request is answered by the assets router), so the handler does the same work.
 * - 'miniflare': through miniflare's entry worker and its assets router, as under `wrangler dev`: two more isolates
 *   and two service hops on every request's path, 1.5-3 ms a request on this machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { children, inspector, isolateHeapOf, processMemory, type LocalWorker } from './local-worker.js';

export interface WorkerBundle {
  dir: string;
  totalKiB: number;
  gzipKiB: number;
}

/** Builds the deployable bundle (what `wrangler deploy` would upload) into a fresh directory. */
export function buildBundle(): WorkerBundle {
  const dir = mkdtempSync(join(tmpdir(), 'worker-bundle-'));
  const r = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', dir], { encoding: 'utf8', timeout: 180_000 });
  const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(r.stdout + r.stderr);
  if (r.status !== 0 || !m) throw new Error(`wrangler deploy --dry-run failed: ${(r.stdout + r.stderr).slice(-400)}`);
  return { dir, totalKiB: Number(m[1]), gzipKiB: Number(m[2]) };
}

const NAME = 'edge-generative';

export type Entry = 'worker' | 'miniflare';

export async function startWorkerd(bundle: WorkerBundle, port: number, firstPath: string, entry: Entry = 'worker', timeoutMs = 60_000, extraBindings: Record<string, string> = {}): Promise<LocalWorker> {
  const { workerOptions: declaredOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml');
  // Secrets (ADMIN_TOKEN) are not in wrangler.toml: a caller that needs them passes them.
  const workerOptions = { ...declaredOptions, bindings: { ...(declaredOptions.bindings as Record<string, unknown>), ...extraBindings } } as typeof declaredOptions;
  const { assets: declared, ...withoutAssets } = workerOptions;
  const assets = declared as { binding?: string; directory: string } | undefined;
  if (!assets) throw new Error('wrangler.toml declares no [assets]: the worker reads its models through ASSETS');
  const inspectorPort = port + 1;
  let log = '';
  const keep = (d: string) => {
    log = (log + d).slice(-20_000);
  };
  const before = new Set(children(process.pid));
  const started = performance.now();
  // miniflare 5 takes a new options shape; wrangler still hands out v4-style worker options.
  const mf = new Miniflare(convertV4MiniflareOptions({
    ...(entry === 'miniflare'
      ? workerOptions
      : { ...withoutAssets, serviceBindings: { ...(withoutAssets.serviceBindings as Record<string, unknown>), [assets.binding!]: { disk: { path: assets.directory, writable: false } } }, unsafeDirectSockets: [{ host: '127.0.0.1', port }] }),
    name: NAME,
    modulesRoot: bundle.dir,
    modules: [
      { type: 'ESModule', path: join(bundle.dir, 'worker.js') },
      // The modules wrangler wrote beside worker.js, by its default rules: *.wasm compiled, *.html as text.
      ...readdirSync(bundle.dir).filter((f) => f.endsWith('.wasm')).map((f) => ({ type: 'CompiledWasm' as const, path: join(bundle.dir, f) })),
      ...readdirSync(bundle.dir).filter((f) => f.endsWith('.html')).map((f) => ({ type: 'Text' as const, path: join(bundle.dir, f) })),
    ],
    host: '127.0.0.1',
    // With entry 'worker', miniflare's entry socket is unused (any free port); requests go to the direct socket.
    port: entry === 'miniflare' ? port : 0,
    // WORKERD_LOG=1: miniflare's and workerd's own logs (request lines, cancelled requests) in logTail().
    ...(process.env['WORKERD_LOG'] ? { log: new Log(LogLevel.VERBOSE), verbose: true } : {}),
    inspectorPort,
    handleStructuredLogs: ({ level, message }) => keep(`${level}: ${message}\n`),
  }));
  const entryBase = (await mf.ready).href.replace(/\/$/, '');
  const base = entry === 'miniflare' ? entryBase : (await mf.unsafeGetDirectURL(NAME)).href.replace(/\/$/, '');
  const readyAt = performance.now();
  let coldStartMs = NaN;
  while (performance.now() - started < timeoutMs) {
    const res = await fetch(`${base}${firstPath}`);
    await res.arrayBuffer();
    if (res.status === 200) {
      coldStartMs = performance.now() - started;
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (Number.isNaN(coldStartMs)) {
    await mf.dispose();
    throw new Error(`workerd did not serve ${firstPath} within ${timeoutMs} ms: ${log.slice(-500)}`);
  }
  const workerd = children(process.pid).filter((pid) => !before.has(pid));
  const debug = await inspector(`ws://127.0.0.1:${inspectorPort}/core:user:${NAME}`);
  // miniflare runs its own isolates beside the worker (entry, assets router, cache, R2...): one session each.
  const listed = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { id: string }[];
  const others = await Promise.all(listed.filter(({ id }) => id !== `core:user:${NAME}`).map(({ id }) => inspector(`ws://127.0.0.1:${inspectorPort}/${id}`)));
  return {
    base,
    coldStartMs,
    firstImageMs: started + coldStartMs - readyAt,
    isolateHeap: () => isolateHeapOf(debug),
    async collectGarbage() {
      // An isolate handles inspector messages only while it runs: cheap requests through miniflare's entry keep
      // the ones on that path (entry, router, cache, the worker) running until they have collected. Isolates off
      // that path (R2, KV) may never answer; they are left after 2 s.
      const within = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 2000))]);
      let collecting = true;
      const collected = Promise.all([debug, ...others].map((session) => within(session.call('HeapProfiler.collectGarbage')))).then(() => {
        collecting = false;
      });
      while (collecting) await Promise.race([collected, fetch(`${entryBase}/v1/models`).then((res) => res.arrayBuffer())]);
    },
    logTail: (chars = 2000) => log.slice(-chars),
    memory: () => processMemory(workerd),
    pids: workerd,
    async stop() {
      for (const session of [debug, ...others]) session.close();
      await mf.dispose();
    },
  };
}
