/** Checkpoint files: exact round trip, corruption detected, fallback to the previous good one. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, CHECKPOINT_FILE } from '../../trainer/run/checkpoint.js';
import { tempDir } from '../helpers/tmp.js';

const sample = (step: number) => ({
  meta: { step, note: 'x' },
  tensors: new Map([
    ['a/0.kernel', { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, step) }],
    ['b', { shape: [1], data: Float32Array.of(-0.5) }],
  ]),
});

describe('checkpoints', () => {
  it('round-trips metadata and tensors exactly', () => {
    const back = decodeCheckpoint<{ step: number }>(encodeCheckpoint(sample(7)), 'mem');
    expect(back.meta).toEqual({ step: 7, note: 'x' });
    expect(back.tensors.get('a/0.kernel')).toEqual({ shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 7) });
    expect(back.tensors.get('b')!.data[0]).toBe(-0.5);
  });

  it('detects truncation and flipped bits', () => {
    const bytes = encodeCheckpoint(sample(1));
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'f')).toThrow(/checksum mismatch/);
    const flipped = bytes.slice();
    flipped[flipped.length - 2]! ^= 1;
    expect(() => decodeCheckpoint(flipped, 'f')).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(new Uint8Array(10), 'f')).toThrow(/bad magic/);
  });

  it('keeps the previous checkpoint and falls back to it with a warning when the newest is corrupt', async () => {
    const dir = tempDir('ckpt');
    await saveCheckpoint(dir, sample(1));
    await saveCheckpoint(dir, sample(2));
    expect((await loadCheckpoint<{ step: number }>(dir))!.meta.step).toBe(2);
    const path = join(dir, CHECKPOINT_FILE);
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 10)); // a write cut short
    const warnings: string[] = [];
    const back = await loadCheckpoint<{ step: number }>(dir, (w) => warnings.push(w));
    expect(back!.meta.step).toBe(1);
    expect(warnings.join()).toMatch(/checksum mismatch.*resuming from .*checkpoint.prev.bin/);
  });

  it('returns null for a fresh directory and fails clearly when nothing is usable', async () => {
    const dir = tempDir('ckpt-empty');
    expect(await loadCheckpoint(dir)).toBeNull();
    writeFileSync(join(dir, CHECKPOINT_FILE), 'garbage');
    await expect(loadCheckpoint(dir, () => {})).rejects.toThrow(/no usable checkpoint/);
  });
});
