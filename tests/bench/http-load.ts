/**
 * Runs requests against a local server with a fixed concurrency and records each latency and status. It uses
 * undici's `request` rather than `fetch`: on this 2-core machine the client shares the CPU with workerd, and
 * `fetch`'s WHATWG layers cost ~0.5 ms of it per request.
 */
import { Agent, request } from 'undici';

/**
 * Each run has its own connection pool, closed at its end, and keep-alive connections are dropped by the client
 * after 1 s idle, so no connection outlives its phase. Connections are kept alive, as browsers and mobile clients
 * do (with workerd 1.20260426.1 that lost requests: scripts/local-workerd.ts).
 */
const newAgent = () => new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000, headersTimeout: HEADERS_TIMEOUT_MS, bodyTimeout: HEADERS_TIMEOUT_MS });

/** A request without response headers after this long counts as failed (undici's default would wait 300 s). */
export const HEADERS_TIMEOUT_MS = 30_000;

export interface RequestSpec {
  path: string;
  init?: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array };
}

export interface LoadResult {
  latencies: number[];
  statuses: Map<number, number>;
  errors: string[];
  wallMs: number;
  serverTimings: string[];
}

/** `count` requests, `concurrency` in flight at a time; `make(i)` says what request i is. */
export async function runLoad(base: string, count: number, concurrency: number, make: (i: number) => RequestSpec, onProgress?: (done: number) => void): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const errors: string[] = [];
  const serverTimings: string[] = [];
  let next = 0;
  let done = 0;
  const agent = newAgent();
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { path, init } = make(i);
      const t0 = performance.now();
      try {
        const res = await request(`${base}${path}`, { method: (init?.method ?? 'GET') as 'GET', headers: init?.headers, body: init?.body, dispatcher: agent });
        const body = await res.body.arrayBuffer();
        latencies.push(performance.now() - t0);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const timing = res.headers['server-timing'];
        if (typeof timing === 'string') serverTimings.push(timing);
        if (res.statusCode >= 400 && errors.length < 10) errors.push(`${init?.method ?? 'GET'} ${path} -> ${res.statusCode} ${new TextDecoder().decode(body.slice(0, 200))}`);
      } catch (err) {
        if (errors.length < 10) errors.push(`${path}: ${(err as Error).message} (${String((err as { cause?: unknown }).cause)})`);
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
      }
      done++;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await agent.close();
  return { latencies, statuses, errors, wallMs: performance.now() - started, serverTimings };
}

/** Medians of the `infer` and `png` durations in Server-Timing headers. */
export function serverTimingMedians(headers: string[]): { inferMs: number; pngMs: number } {
  const pick = (name: string) => {
    const v = headers.map((h) => new RegExp(`${name};dur=([\\d.]+)`).exec(h)?.[1]).filter(Boolean).map(Number).sort((a, b) => a - b);
    return v.length ? v[Math.floor(v.length / 2)]! : NaN;
  };
  return { inferMs: pick('infer'), pngMs: pick('png') };
}
