/**
 * tfjs-backend-wasm with its multithreaded (pthreads + SIMD) build under Node. tfjs switches that build off in
 * Node (tfjs#3830: forced on, emscripten hands worker_threads a blob: URL and fails with ERR_WORKER_PATH). XNNPACK's
 * convolutions and matmuls then run on one core; with two, a DCGAN step at batch 64 takes 0.74x the time.
 * Weights come out bit-identical to one thread's (tests/e2e/wasm-backend.test.ts).
 *
 * Four Node-specific corrections while the backend starts, each undone once it is up:
 * - the pthread worker script is a file (wasm-pthread-worker.cjs) instead of a blob: URL;
 * - the pool's workers start without the parent's exec arguments: each would load tsx's loader again (backend
 *   start 1.1 s instead of 0.3-0.4 s);
 * - tfjs sizes its pool as half the logical cores, assuming two hyperthreads per core (backend.cc), so on a VM
 *   with one thread per core it would run on one; it is told the count asked for;
 * - the pool's threads wait for work forever, so their workers are unref'd: they must not keep the process alive.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import workerThreads, { type Worker, type WorkerOptions } from 'node:worker_threads';
import { tf } from './tf.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./wasm-pthread-worker.cjs', import.meta.url));

interface EmscriptenThreads {
  PThread: { runningWorkers: Worker[] };
}

/** tfjs-backend-wasm's thread controls (the caller imports the package: select.ts decides what loads). */
export interface WasmThreadControls {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** Activates the 'wasm' backend on `threads` threads (2 or more); returns the number it runs on. */
export async function activateThreadedWasm(threads: number, wasm: WasmThreadControls): Promise<number> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  const { createObjectURL } = URL;
  const { cpus } = os;
  const { Worker: NodeWorker } = workerThreads;
  workerThreads.Worker = class extends NodeWorker {
    constructor(file: string | URL, options?: WorkerOptions) {
      super(file, { ...options, execArgv: [] });
    }
  };
  URL.createObjectURL = (blob: Blob) => (blob instanceof Blob && blob.type === 'application/javascript' ? WORKER_SCRIPT : createObjectURL(blob));
  // Only the length is read (emscripten_num_logical_cores), and tfjs halves it.
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % Math.max(real.length, 1)]!);
  };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error(`tfjs backend 'wasm' failed to initialise with ${threads} threads (try --threads 1)`);
    await tf.ready();
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
    workerThreads.Worker = NodeWorker;
  }
  for (const worker of (tf.backend() as unknown as { wasm: EmscriptenThreads }).wasm.PThread.runningWorkers) worker.unref();
  return wasm.getThreadsCount();
}
