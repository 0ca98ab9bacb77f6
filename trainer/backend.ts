/**
 * Backend selection: one function, called once at start, that returns what it chose. No global is reassigned
 * elsewhere. Order for 'auto': CUDA (tfjs-node-gpu), native CPU (tfjs-node), wasm with the trainer's own
 * training kernels, pure-JS cpu.
 */
import { tf } from './tf.js';
import { registerWasmTrainingKernels } from './kernels/register.js';

export const BACKEND_CHOICES = ['auto', 'cuda', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface SelectedBackend {
  /** The tfjs backend name now active ('tensorflow', 'wasm' or 'cpu'). */
  name: string;
  /** Which package and device: recorded in checkpoints and manifests. */
  description: string;
}

/** Imports a native package by a name held in a variable, so the type checker does not need it installed. */
async function importNative(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return true;
  } catch {
    return false;
  }
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

export async function selectBackend(choice: BackendChoice = 'auto'): Promise<SelectedBackend> {
  // At most one native package is imported: a second one re-registers every kernel (FINDINGS).
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
  if (choice === 'auto' || choice === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels();
      await activate('wasm');
      return { name: 'wasm', description: 'tfjs-backend-wasm (XNNPACK, SIMD) + own training kernels' };
    } catch (err) {
      if (choice === 'wasm') throw err;
    }
  }
  
  await activate('cpu');
  return { name: 'cpu', description: 'tfjs-backend-cpu (pure JS, slow)' };
}
