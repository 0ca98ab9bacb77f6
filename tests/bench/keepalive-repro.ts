/**
 * `node --import tsx tests/bench/keepalive-repro.ts [runs]`: a five-line CPU-bound worker (~100 ms per request, no
 * project code) behind an entry worker, on plain workerd, gets one request and then 160 at concurrency 32, over
 * keep-alive connections and with a connection per request; it prints how many requests got no answer in 30 s.
 * History: workerd 1.20260426.1 (what wrangler 4.86 brought on Node 20) left 1 of 160 unanswered with keep-alive in
 * every run, so the project pinned a newer workerd by environment variable. The workerd that wrangler 4.164 brings
 * (1.20261117.1) answers all of them (docs/architecture.md), so that workaround is gone.
 */
import http from 'node:http';
import { miniflareWorkerd, withPlainWorkerd } from '../helpers/plain-workerd.js';

const WORKER = `export default { async fetch() {
  let x = 0; for (let i = 0; i < 20_000_000; i++) x = (x + i * 7) % 1000003;
  return new Response(new Uint8Array(30000).fill(x & 255));
} }`;
const PORT = 8869;

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

function onWorkerd(binary: string, keepAlive: boolean): Promise<number> {
  return withPlainWorkerd(binary, {
    'w.js': WORKER,
    'entry.js': 'export default { fetch: (req, env) => env.USER.fetch(req) }',
    'config.capnp': `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "user", worker = .user), (name = "entry", worker = .entry) ],
  sockets = [ (name = "http", address = "127.0.0.1:${PORT}", http = (), service = "entry") ]
);
const user :Workerd.Worker = (modules = [(name = "w.js", esModule = embed "w.js")], compatibilityDate = "2026-04-20");
const entry :Workerd.Worker = (modules = [(name = "entry.js", esModule = embed "entry.js")], compatibilityDate = "2026-04-20", bindings = [(name = "USER", service = "user")]);
`,
  }, PORT, () => hammer(`http://127.0.0.1:${PORT}`, keepAlive));
}

const binary = miniflareWorkerd();
const runs = Number(process.argv[2] ?? 2);
for (let r = 1; r <= runs; r++) {
  console.log(`run ${r}, ${binary}: keep-alive ${await onWorkerd(binary, true)} of 160 unanswered, a connection per request ${await onWorkerd(binary, false)} of 160`);
}
