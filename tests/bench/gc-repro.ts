/**
 * `node --import tsx tests/bench/gc-repro.ts [requests]`: why workerd's RSS climbs under load although nothing
 * leaks. A worker that only returns a 2 KB JSON, on plain workerd (no miniflare, no project code), gets `requests`
 * (default 60,000) at concurrency 32 over keep-alive connections, twice: as is, and calling gc() every 500 requests
 * (workerd started with --expose-gc). It prints the RSS after each tenth. Measured 2026-11-29 with workerd
 * 1.20261117.1: 51 -> 95 ... 314 MiB as is, 62-67 MiB throughout with the collections. V8 sees small JS heaps and
 * seldom runs a full collection, while the garbage holds native memory; the benchmark's load test therefore also
 * reads RSS after a full collection of every isolate (tests/helpers/workerd-worker.ts).
 */
import http from 'node:http';
import { processMemory } from '../helpers/local-worker.js';
import { miniflareWorkerd, withPlainWorkerd } from '../helpers/plain-workerd.js';

const PORT = 8873;
const BODY = JSON.stringify({ models: Array.from({ length: 30 }, (_, i) => ({ id: `model-${i}`, text: 'x'.repeat(50) })) });
const rssMiB = (pid: number) => processMemory([pid]).rssMiB;

async function load(count: number, pid: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const get = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(`http://127.0.0.1:${PORT}${path}`, { agent }, (res) => res.resume().on('end', resolve).on('error', reject));
      req.on('error', reject);
    });
  const tenth = Math.ceil(count / 10);
  const rss: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < count) {
      const i = next++;
      await get(`/v1/models?${i}`);
      if ((i + 1) % tenth === 0) rss.push(rssMiB(pid));
    }
  }));
  agent.destroy();
  return rss;
}

async function run(count: number, collect: boolean): Promise<string> {
  const worker = `let n = 0;
export default { fetch() {
  if (${collect} && ++n % 500 === 0) gc();
  return new Response(${JSON.stringify(BODY)}, { headers: { 'Content-Type': 'application/json' } });
} }`;
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .main) ],
  sockets = [ (name = "http", address = "127.0.0.1:${PORT}", http = (), service = "main") ],
  v8Flags = ["--expose-gc"]
);
const main :Workerd.Worker = (modules = [(name = "w.js", esModule = embed "w.js")], compatibilityDate = "2026-04-20");
`;
  return withPlainWorkerd(miniflareWorkerd(), { 'w.js': worker, 'config.capnp': config }, PORT, async (pid) => {
    const start = rssMiB(pid);
    return `${collect ? 'gc() every 500 requests' : 'as is'}: RSS ${start} MiB at start, per tenth ${(await load(count, pid)).join(', ')} MiB`;
  });
}

const count = Number(process.argv[2] ?? 60_000);
console.log(await run(count, false));
console.log(await run(count, true));
