/**
 * Where `wrangler dev` (`npm start`) spends its time per request, run alone: `node --import tsx
 * tests/bench/wrangler-dev-hops.ts`. wrangler 4.164 starts two workerd processes: the one on the port you asked for
 * runs wrangler's ProxyWorker (a Durable Object that holds requests while the worker reloads), which forwards every
 * request over loopback HTTP to the other's miniflare entry worker, whose assets router then calls our worker. This
 * sends the same sequential requests (keep-alive) to each workerd port it finds listening (Linux `ss`), so the hops
 * can be told apart: the outer port, the inner entry (the only other one answering 200), and the rest (inspector,
 * loopback services). docs/benchmarks.md, "What wrangler dev adds", has the numbers.
 */
import { execSync } from 'node:child_process';
import { startLocalWorker } from '../helpers/local-worker.js';
import { runLoad } from './http-load.js';

const PORT = 8931;
const first = '/v1/models/dcgan-fashion/sample.png?seed=1';
const p50 = (xs: number[]) => ([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN).toFixed(2);
const w = await startLocalWorker(PORT, first);
try {
  const ports = execSync("ss -ltnp | grep workerd | awk '{print $4}'", { encoding: 'utf8' }).trim().split('\n');
  for (const base of [`http://127.0.0.1:${PORT}`, ...ports.filter((p) => !p.endsWith(`:${PORT}`)).map((p) => `http://${p}`)]) {
    try {
      await runLoad(base, 20, 1, () => ({ path: '/v1/no-such-route' }));
      const notFound = await runLoad(base, 300, 1, () => ({ path: '/v1/no-such-route' }));
      const cached = await runLoad(base, 300, 1, () => ({ path: first }));
      console.log(`${base}${base.endsWith(`:${PORT}`) ? ' (wrangler dev)' : ''}: 404 p50 ${p50(notFound.latencies)} ms, cached sample.png p50 ${p50(cached.latencies)} ms; statuses ${JSON.stringify([...notFound.statuses])} ${JSON.stringify([...cached.statuses])}`);
    } catch (err) {
      console.log(`${base}: no HTTP answer (${(err as Error).message.slice(0, 80)})`);
    }
  }
} finally {
  await w.stop();
}
