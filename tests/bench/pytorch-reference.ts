/**
 * The PyTorch side of the trainer benchmark: scripts/pytorch-dcgan-reference.py in its timing mode (--steps, --blocks),
 * kept running beside the trainer so that the two take turns, block by block, on the same CPU: whatever else runs on
 * the machine (a background training run) slows both sides alike, and the ratio stays fair.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The Python that has torch: Debian's python3-torch is under /usr/bin (a pyenv python3 on PATH may not have it). */
const PYTHON = process.env['PYTORCH_PYTHON'] ?? '/usr/bin/python3';
const SCRIPT = 'scripts/pytorch-dcgan-reference.py';

export interface ReferenceOptions {
  /** The decoded images, [count, side, side, channels] bytes, and their labels: the trainer's own data set. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  imageSize: number;
  /** The trainer's DCGAN widths and kernel, passed as the script's flags. */
  generatorChannels: number[];
  discriminatorChannels: number[];
  kernel: number;
  batch: number;
  threads: number;
  stepsPerBlock: number;
  blocks: number;
}

export interface ReferenceReady {
  torch: string;
  threads: number;
  /** The BLAS library the reference process mapped (Debian chooses it with update-alternatives). */
  blas: string;
}

/** A running reference: `block()` times one block of steps; `close()` ends it. */
export interface Reference {
  ready: ReferenceReady;
  block(): Promise<number>;
  close(): Promise<void>;
}

/** The trainer's cache format (trainer/data/folder.ts): 4-byte big-endian header length, JSON header, labels, pixels. */
function cacheBytes(o: ReferenceOptions): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ format: 2, count: o.count, skipped: [] }));
  const out = new Uint8Array(4 + header.length + o.count + o.images.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(o.labels.subarray(0, o.count), 4 + header.length);
  out.set(o.images, 4 + header.length + o.count);
  return out;
}

/**
 * Starts the reference on the same images, architecture, batch and thread count, and waits until its warm-up steps
 * are done. Rejects with the reason when PyTorch cannot run here (no python, no torch).
 */
export async function startReference(o: ReferenceOptions): Promise<Reference> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-pytorch-'));
  const data = join(dir, 'data.bin');
  await writeFile(data, cacheBytes(o));
  const args = [
    SCRIPT, '--data', data, '--image-size', String(o.imageSize), '--fresh-z', '--batch', String(o.batch), '--kernel', String(o.kernel),
    '--generator-channels', o.generatorChannels.join(','), '--discriminator-channels', o.discriminatorChannels.join(','),
    '--threads', String(o.threads), '--steps', String(o.stepsPerBlock), '--blocks', String(o.blocks), '--warmup-steps', '2',
  ];
  // OMP_NUM_THREADS as well as set_num_threads: Debian's torch starts its OpenMP pool on one thread without it.
  // OPENBLAS_NUM_THREADS=1: OpenBLAS's own thread pool beside torch's OpenMP one oversubscribes the cores (32x32 on
  // 2 cores: 2.3-2.4 steps/s with both pools, 4.3 with BLAS on the calling thread): PyTorch's faster setting.
  // OMP_WAIT_POLICY=PASSIVE: an OpenMP thread that spins at a barrier while the other core runs someone else's job (a
  // background training at nice 19) slowed a 32x32 step about 10x (5 steps: 18.7 and 20.1 s spinning, 1.9 s passive).
  const env = {
    ...process.env,
    OMP_NUM_THREADS: String(o.threads),
    OPENBLAS_NUM_THREADS: process.env['OPENBLAS_NUM_THREADS'] ?? '1',
    OMP_WAIT_POLICY: process.env['OMP_WAIT_POLICY'] ?? 'PASSIVE',
  };
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, args, { env, stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number>((resolve) => {
    child.on('error', (err) => {
      stderr += err.message;
      resolve(-1);
    });
    child.on('close', (code) => resolve(code ?? -1));
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: undefined }) as const)]);
    if (line.done) {
      const code = await exited;
      const reason = stderr.trim().split('\n').at(-1) || `exit code ${code}`;
      throw new Error(`${PYTHON} ${SCRIPT} (exit ${code}): ${reason}`);
    }
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  try {
    const ready = await next();
    let left = o.blocks;
    return {
      ready: { torch: String(ready['torch']), threads: Number(ready['threads']), blas: String(ready['blas']) },
      block: async () => {
        if (left-- <= 0) throw new Error('no reference blocks left');
        if (o.blocks > 1) child.stdin.write('\n');
        return Number((await next())['seconds']);
      },
      close: async () => {
        child.stdin.end();
        await exited;
        await cleanup();
      },
    };
  } catch (err) {
    child.kill();
    await exited;
    await cleanup();
    throw err;
  }
}
