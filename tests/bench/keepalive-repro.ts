/**
 * `node --import tsx tests/bench/keepalive-repro.ts [runs]`: why the benchmarks' concurrent phases open a
 * connection per request. A five-line CPU-bound worker (~100 ms per request, no onnxruntime, no project code)
 * gets one request, then 160 at concurrency 32, through miniflare (what wrangler dev and the benchmarks run) and
 * on plain workerd with an entry worker in front, over keep-alive connections and with a connection per request;
 * it prints how many were not answered in 30 s. Measured 2026-11-29 (workerd of miniflare 4.20260426.0), 2 runs:
 * keep-alive 1 of 160 unanswered in every case, a connection per request 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';

const WORKER = `export default { async fetch() {
  let x = 0; for (let i = 0; i < 20_000_000; i++) x = (x + i * 7) % 1000003;
  return new Response(new Uint8Array(30000).fill(x & 255));
} }`;

async function hammer(base: string, keepAlive: boolean): Promise<number> {
  const agent = new http.Agent({ keepAlive, maxSockets: 64 });
  const get = (url: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(url, { agent }, (res) => res.resume().on('end', resolve).on('error', reject));
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    });
  await get(`${base}/warm-up`);
  let next = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < 160) {
      const i = next++;
      await get(`${base}/${i}`).catch(() => failed++);
    }
  }));
  agent.destroy();
  return failed;
}

async function viaMiniflare(keepAlive: boolean): Promise<number> {
  const mf = new Miniflare({ modules: true, script: WORKER, host: '127.0.0.1', port: 0 });
  try {
    return await hammer((await mf.ready).href.replace(/\/$/, ''), keepAlive);
  } finally {
    await mf.dispose();
  }
}

async function viaWorkerd(keepAlive: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'workerd-repro-'));
  writeFileSync(join(dir, 'w.js'), WORKER);
  writeFileSync(join(dir, 'entry.js'), 'export default { fetch: (req, env) => env.USER.fetch(req) }');
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "user", worker = .user), (name = "entry", worker = .entry) ],
  sockets = [ (name = "http", address = "127.0.0.1:8869", http = (), service = "entry") ]
);
const user :Workerd.Worker = (modules = [(name = "w.js", esModule = embed "w.js")], compatibilityDate = "2026-04-20");
const entry :Workerd.Worker = (modules = [(name = "entry.js", esModule = embed "entry.js")], compatibilityDate = "2026-04-20", bindings = [(name = "USER", service = "user")]);
`);
  const workerd = createRequire(import.meta.url)('workerd').default as string;
  const child = spawn(workerd, ['serve', join(dir, 'config.capnp')], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      const up = await fetch('http://127.0.0.1:8869/warm').then(() => true, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return await hammer('http://127.0.0.1:8869', keepAlive);
  } finally {
    child.kill();
  }
}

const runs = Number(process.argv[2] ?? 2);
for (let r = 1; r <= runs; r++) {
  for (const keepAlive of [true, false]) {
    const how = keepAlive ? 'keep-alive' : 'a connection per request';
    console.log(`run ${r}, ${how}: miniflare ${await viaMiniflare(keepAlive)} of 160 unanswered; plain workerd + entry worker ${await viaWorkerd(keepAlive)} of 160 unanswered`);
  }
}
