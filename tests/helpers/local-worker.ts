/**
 * A local worker for the end-to-end tests and the benchmarks: `wrangler dev` on loopback with fresh local state (so
 * the Cache API starts empty), its workerd processes found for memory readings, stopped at the end. (The
 * benchmarks' latency numbers come from workerd-worker.ts: the deployable bundle on workerd without wrangler's
 * dev proxy.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export interface LocalWorker {
  base: string;
  /** Milliseconds from spawning the process to the first 200 of `firstPath`. */
  coldStartMs: number;
  /** Of which: from the worker's first answer (GET /v1/models, no model loaded) to the first image. */
  firstImageMs: number;
  /** Resident memory of the worker's workerd processes now and at peak (VmHWM), in MiB. */
  memory(): { rssMiB: number; peakMiB: number };
  /** The worker's workerd process ids (for CPU time and peak-memory resets; workerd-worker.ts only). */
  pids?: number[];
  /**
   * The worker isolate's V8 heap (used and reserved, MiB) read through the inspector protocol: what a deployed
   * isolate's 128 MB limit applies to. (The workerd process's RSS also holds wrangler dev's own state.)
   */
  isolateHeap(): Promise<{ usedMiB: number; totalMiB: number }>;
  /**
   * A full garbage collection (inspector: HeapProfiler.collectGarbage) of the worker's isolate, and on workerd
   * directly of every other isolate in the process too (miniflare's own).
   */
  collectGarbage(): Promise<void>;
  /** The end of wrangler dev's stderr (warnings and errors: a worker restart, an exceeded limit). */
  logTail(chars?: number): string;
  stop(): Promise<void>;
}

export function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry), ...children(Number(entry)));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Calls inspector methods over one WebSocket. */
export async function inspector(url: string): Promise<{ call(method: string): Promise<Record<string, number>>; close(): void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let id = 0;
  return {
    call: (method) =>
      new Promise((resolve) => {
        const mine = ++id;
        const on = (d: WebSocket.RawData) => {
          const m = JSON.parse(d.toString()) as { id?: number; result?: Record<string, number> };
          if (m.id !== mine) return;
          ws.off('message', on);
          resolve(m.result ?? {});
        };
        ws.on('message', on);
        ws.send(JSON.stringify({ id: mine, method }));
      }),
    close: () => ws.close(),
  };
}

/** Resident memory of processes `pids` now and at peak (VmHWM), in MiB. */
export function processMemory(pids: number[]): { rssMiB: number; peakMiB: number } {
  const sum = (field: string) => pids.reduce((s, pid) => s + statusKiB(pid, field), 0) / 1024;
  return { rssMiB: Math.round(sum('VmRSS') * 10) / 10, peakMiB: Math.round(sum('VmHWM') * 10) / 10 };
}

/** An isolate's V8 heap (used and reserved, MiB), read through an inspector session on it. */
export async function isolateHeapOf(debug: Awaited<ReturnType<typeof inspector>>): Promise<{ usedMiB: number; totalMiB: number }> {
  const h = await debug.call('Runtime.getHeapUsage');
  return { usedMiB: Math.round((h['usedSize']! / 2 ** 20) * 10) / 10, totalMiB: Math.round((h['totalSize']! / 2 ** 20) * 10) / 10 };
}

/** `vars` are passed as `--var NAME:VALUE` (e.g. an ADMIN_TOKEN, which a deployment holds as a secret). */
export async function startLocalWorker(port: number, firstPath: string, timeoutMs = 60_000, vars: Record<string, string> = {}): Promise<LocalWorker> {
  const state = mkdtempSync(join(tmpdir(), 'bench-state-'));
  const started = performance.now();
  const inspectorPort = port + 1;
  const child: ChildProcess = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--persist-to', state, '--log-level', 'warn', ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  let coldStartMs = NaN;
  let readyAt = NaN;
  while (performance.now() - started < timeoutMs) {
    try {
      const res = await fetch(`${base}/v1/models`);
      await res.arrayBuffer();
      if (res.status === 200) {
        readyAt = performance.now();
        const first = await fetch(`${base}${firstPath}`);
        await first.arrayBuffer();
        if (first.status === 200) coldStartMs = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (Number.isNaN(coldStartMs)) {
    process.kill(-child.pid!, 'SIGKILL');
    throw new Error(`wrangler dev did not serve ${firstPath} within ${timeoutMs} ms: ${stderr.slice(-500)}`);
  }
  const workerd = () => children(child.pid!).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'workerd';
    } catch {
      return false;
    }
  });
  const debug = await inspector(`ws://127.0.0.1:${inspectorPort}/ws`);
  return {
    base,
    coldStartMs,
    firstImageMs: started + coldStartMs - readyAt,
    isolateHeap: () => isolateHeapOf(debug),
    collectGarbage: () => debug.call('HeapProfiler.collectGarbage').then(() => undefined),
    logTail: (chars = 2000) => stderr.slice(-chars),
    memory: () => processMemory(workerd()),
    async stop() {
      debug.close();
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // gone
          }
          resolve();
        }, 5000);
        child.on('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
