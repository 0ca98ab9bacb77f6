/**
 * Backend selection: one function, called once at start, that returns what it chose. No global is reassigned
 * elsewhere. Order for 'auto': CUDA (tfjs-node-gpu), native CPU (tfjs-node), a real (not software) GPU through
 * WebGPU (webgpu.ts), wasm with the trainer's own training kernels, pure-JS cpu.
 */
import { availableParallelism } from 'node:os';
import { tf } from './tf.js';
import { registerWasmTrainingKernels, useNativeKernels } from './kernels/register.js';
import { loadNativeKernels } from './kernels/native-kernels.js';
import { activateThreadedWasm } from './wasm-threads.js';
import { activateWebGpu, BackendError, describeAdapter, findAdapter, mayHaveGpu, type GpuAdapterInfo } from './webgpu.js';

export const BACKEND_CHOICES = ['auto', 'cuda', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** The wasm backend's convolutions: onnxruntime-node's native kernels ('native'), XNNPACK's ('wasm'), or native where it loads. */
export const CONV_KERNEL_CHOICES = ['auto', 'native', 'wasm'] as const;
export type ConvKernelChoice = (typeof CONV_KERNEL_CHOICES)[number];

export interface SelectedBackend {
  /** The tfjs backend name now active ('tensorflow', 'wasm' or 'cpu'). */
  name: string;
  /** Which package and device: recorded in checkpoints and manifests. */
  description: string;
  /** The GPU adapter (webgpu only). */
  adapter?: GpuAdapterInfo;
  /** Runs one training step, raising GPU faults (webgpu.ts) as a GpuFault; other backends just run it. */
  guard<T>(work: () => Promise<T>): Promise<T>;
}

const unguarded = <T>(work: () => Promise<T>): Promise<T> => work();

/** Imports a native package by a name held in a variable, so the type checker does not need it installed. */
async function importNative(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * tfjs-backend-wasm's emscripten glue installs process-wide 'uncaughtException' and 'unhandledRejection' handlers
 * that rethrow from inside its minified source: Node then prints that source line (hundreds of kilobytes) instead
 * of the error, and exits with code 7. Whatever handlers `work` adds are removed again.
 */
async function keepProcessHandlers<T>(work: () => Promise<T>): Promise<T> {
  // Typed as one event: Node's overloads do not accept a union of event names.
  const events = ['uncaughtException', 'unhandledRejection'] as unknown as 'uncaughtException'[];
  const before = events.map((event) => new Set(process.listeners(event)));
  try {
    return await work();
  } finally {
    events.forEach((event, i) => {
      for (const listener of process.listeners(event)) if (!before[i]!.has(listener)) process.removeListener(event, listener);
    });
  }
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

/**
 * Activates the backend `choice` names ('auto': the fastest that loads). `threads` applies to wasm (default: every
 * core) and its native convolutions; tfjs-node manages its own threads. `gpuAdapter` picks a WebGPU adapter by
 * (part of) its name.
 */
export async function selectBackend(choice: BackendChoice = 'auto', threads = availableParallelism(), gpuAdapter?: string, convKernels: ConvKernelChoice = 'auto'): Promise<SelectedBackend> {
  const chosen = await select(choice, threads, gpuAdapter, convKernels);
  return 'guard' in chosen ? chosen : { ...chosen, guard: unguarded };
}

async function select(choice: BackendChoice, threads: number, gpuAdapter: string | undefined, convKernels: ConvKernelChoice): Promise<SelectedBackend | Omit<SelectedBackend, 'guard'>> {
  // At most one native package is imported: a second one re-registers every kernel (docs/architecture.md).
  if (choice === 'auto' || choice === 'cuda') {
    if (await importNative('@tensorflow/tfjs-node-gpu')) {
      await activate('tensorflow');
      return { name: 'tensorflow', description: 'tfjs-node-gpu (CUDA)' };
    }
    if (choice === 'cuda') throw new Error('--backend cuda: @tensorflow/tfjs-node-gpu is not installed or cannot load libtensorflow (needs CUDA and network access at install)');
  }
  if (choice === 'auto' || choice === 'tensorflow') {
    if (await importNative('@tensorflow/tfjs-node')) {
      await activate('tensorflow');
      return { name: 'tensorflow', description: 'tfjs-node (native CPU)' };
    }
    if (choice === 'tensorflow') throw new Error('--backend tensorflow: @tensorflow/tfjs-node is not installed or cannot load libtensorflow');
  }
  if (choice === 'webgpu' || (choice === 'auto' && (gpuAdapter !== undefined || mayHaveGpu()))) {
    const found = await findAdapter(gpuAdapter);
    if ('missing' in found) {
      if (choice === 'webgpu' || gpuAdapter !== undefined) throw new BackendError(`--backend webgpu: ${found.missing}`);
    } else if (choice === 'webgpu' || !found.info.fallback) {
      // 'auto' never trains on a software adapter: wasm is faster than SwiftShader.
      const gpu = await activateWebGpu(found);
      return { name: 'webgpu', description: describeAdapter(gpu.info), adapter: gpu.info, guard: gpu.guard };
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels();
      const running = await keepProcessHandlers(async () => (threads > 1 ? activateThreadedWasm(threads, wasm) : (await activate('wasm'), 1)));
      const native = convKernels === 'wasm' ? null : loadNativeKernels(running);
      if (!native && convKernels === 'native') throw new BackendError('--conv-kernels native: onnxruntime-node did not load (it is a dependency of trainer/package.json: run npm ci)');
      useNativeKernels(native);
      const convolutions = native ? ', convolutions, batch norm and tanh on onnxruntime-node (native)' : '';
      return { name: 'wasm', description: `tfjs-backend-wasm (XNNPACK, SIMD, ${running} thread${running > 1 ? 's' : ''}) + own training kernels${convolutions}` };
    } catch (err) {
      if (choice === 'wasm' || err instanceof BackendError) throw err;
    }
  }
  
  await activate('cpu');
  return { name: 'cpu', description: 'tfjs-backend-cpu (pure JS, slow)' };
}
