/**
 * The worker's fetch handler called directly inside workerd, with the test bindings and an execution context that
 * is waited on, as Workers calls it. For tests that send hundreds of requests: under vitest-pool-workers every
 * SELF.fetch is slower than the one before (cloudflare/workers-sdk#15446, open): here a 404 took 7 ms a request
 * over a file's first 100 requests and 182 ms over requests 500-600, while direct calls stay at ~0.1 ms.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import worker, { type WorkerEnv } from '../../edge/worker.js';

/** Statuses whose responses have no body (a Response with one cannot be constructed). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export async function workerFetch(url: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url, init), env as unknown as WorkerEnv, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(NULL_BODY.has(res.status) ? null : body, res);
}
