/**
 * Checkpoints: one file holding every tensor of a run (networks, optimiser moments) and a JSON header with
 * everything else (config, step, random state, losses). Format: "EGCK", u32 version, u32 header length, header
 * JSON, then the float32 payload; the header carries the payload's sha256 so corruption is detected.
 *
 * Saving rotates: the previous good checkpoint stays as `checkpoint.prev.bin`, and loading falls back to it with a
 * warning when the newest one is truncated or corrupt.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';

const MAGIC = 'EGCK';
const VERSION = 1;

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint<Meta> {
  meta: Meta;
  tensors: Map<string, NamedArray>;
}

interface Header<Meta> {
  sha256: string;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  meta: Meta;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export const CHECKPOINT_FILE = 'checkpoint.bin';
export const PREVIOUS_CHECKPOINT_FILE = 'checkpoint.prev.bin';
/**
 * The checkpoint of the epoch with the lowest per-epoch FCD so far. The plateau rule stops a run a whole window after
 * its best epoch, and per-epoch FCD is noisy: the emoji cGAN measured 2.50 at epoch 42 and 3.01 at epoch 52, its last
 * (N = 2000). `npm run export -- RUN --best` exports this one.
 */
export const BEST_CHECKPOINT_FILE = 'checkpoint.best.bin';

export function encodeCheckpoint<Meta>(ckpt: Checkpoint<Meta>): Uint8Array {
  const entries = [...ckpt.tensors.entries()];
  const payloadLength = entries.reduce((n, [, t]) => n + t.data.length * 4, 0);
  const payload = new Uint8Array(payloadLength);
  const index: Header<Meta>['tensors'] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    payload.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offset);
    index.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.byteLength;
  }
  const header: Header<Meta> = { sha256: createHash('sha256').update(payload).digest('hex'), tensors: index, meta: ckpt.meta };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + headerBytes.length + payload.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  out.set(payload, 12 + headerBytes.length);
  return out;
}

export function decodeCheckpoint<Meta>(bytes: Uint8Array, source: string): Checkpoint<Meta> {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 4)) !== MAGIC) throw new CheckpointError(`${source}: not a checkpoint (bad magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new CheckpointError(`${source}: checkpoint version ${version}, this trainer reads ${VERSION}`);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new CheckpointError(`${source}: truncated header`);
  let header: Header<Meta>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as Header<Meta>;
  } catch {
    throw new CheckpointError(`${source}: corrupt header`);
  }
  const payload = bytes.subarray(12 + headerLength);
  if (createHash('sha256').update(payload).digest('hex') !== header.sha256) throw new CheckpointError(`${source}: checksum mismatch (truncated or corrupt)`);
  // Copy into an aligned buffer: the payload's offset in the file need not be a multiple of 4.
  const aligned = new Float32Array(new Uint8Array(payload).buffer);
  const tensors = new Map<string, NamedArray>();
  for (const t of header.tensors) tensors.set(t.name, { shape: t.shape, data: aligned.subarray(t.offset / 4, t.offset / 4 + t.length) });
  return { meta: header.meta, tensors };
}

/** Saves atomically into `dir`, keeping the previous checkpoint as the fallback. */
export async function saveCheckpoint<Meta>(dir: string, ckpt: Checkpoint<Meta>): Promise<void> {
  const bytes = encodeCheckpoint(ckpt);
  const current = join(dir, CHECKPOINT_FILE);
  if (existsSync(current)) await rename(current, join(dir, PREVIOUS_CHECKPOINT_FILE));
  await writeFileAtomic(current, bytes);
}

/** Copies the checkpoint just saved in `dir` to BEST_CHECKPOINT_FILE (atomically). */
export async function keepAsBest(dir: string): Promise<void> {
  await writeFileAtomic(join(dir, BEST_CHECKPOINT_FILE), await readFile(join(dir, CHECKPOINT_FILE)));
}

/** The best epoch's checkpoint of `dir` (keepAsBest), or null if the run kept none. */
export async function loadBestCheckpoint<Meta>(dir: string): Promise<Checkpoint<Meta> | null> {
  const path = join(dir, BEST_CHECKPOINT_FILE);
  return existsSync(path) ? decodeCheckpoint<Meta>(new Uint8Array(await readFile(path)), path) : null;
}

/** Loads the newest good checkpoint of `dir`, or null if there is none at all. */
export async function loadCheckpoint<Meta>(dir: string, warn: (message: string) => void = console.warn): Promise<Checkpoint<Meta> | null> {
  const paths = [CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE].map((f) => join(dir, f)).filter((p) => existsSync(p));
  if (paths.length === 0) return null;
  const errors: string[] = [];
  for (const path of paths) {
    try {
      const ckpt = decodeCheckpoint<Meta>(new Uint8Array(await readFile(path)), path);
      if (errors.length > 0) warn(`warning: ${errors.join('; ')}; resuming from ${path} instead`);
      return ckpt;
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      errors.push(err.message);
    }
  }
  throw new CheckpointError(`no usable checkpoint in ${dir}: ${errors.join('; ')}`);
}
