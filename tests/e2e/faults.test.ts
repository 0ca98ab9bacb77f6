/**
 * Faults during training: a SIGKILL mid-run loses nothing that was saved and the resumed run ends with the same
 * weights as an uninterrupted one; a NaN loss stops training with a clear message and keeps the last good
 * checkpoint.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../trainer/run/checkpoint.js';
import type { RunMeta } from '../../trainer/run/run-state.js';
import { FAMILIES } from '../../trainer/families/index.js';
import { train, TrainingDiverged } from '../../trainer/train.js';
import type { Family } from '../../trainer/families/family.js';
import { dcgan } from '../../trainer/families/dcgan.js';
import { fashionMnistDir } from '../helpers/idx-files.js';
import { tempDir } from '../helpers/tmp.js';

const data = fashionMnistDir();

const TOTAL = 40;
const args = (out: string) => ['--import', 'tsx', 'trainer/train.ts', '--data', data, '--out', out, '--steps', String(TOTAL), '--limit', '256', '--batch-size', '32',
  '--generator-channels', '16,8', '--discriminator-channels', '8,16', '--latent-size', '8', '--checkpoint-every', '5', '--eval-n', '0', '--seed', '21'];

describe('training faults', () => {
  it('SIGKILL mid-run, then --resume: the same final weights as an uninterrupted run', async () => {
    const straight = join(tempDir('straight'), 'run');
    expect(spawnSync(process.execPath, args(straight), { encoding: 'utf8', timeout: 120_000 }).status).toBe(0);

    const killed = join(tempDir('killed'), 'run');
    const child = spawn(process.execPath, args(killed), { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Kill -9 as soon as a checkpoint past the first one exists: no chance to save anything more.
    let stepAtKill = 0;
    while (stepAtKill < 10) {
      await new Promise((r) => setTimeout(r, 10));
      stepAtKill = (await loadCheckpoint<RunMeta>(killed, () => {}).catch(() => null))?.meta.step ?? 0;
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const survivor = (await loadCheckpoint<RunMeta>(killed))!;
    expect(survivor.meta.step).toBeLessThan(TOTAL);
    expect(survivor.meta.step % 5).toBe(0);

    // The run's config and step count come from the checkpoint.
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'trainer/train.ts', '--out', killed, '--resume', '--eval-n', '0'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toContain(`resumed ${killed} at step ${survivor.meta.step}`);
    expect(r.status).toBe(0);

    const a = (await loadCheckpoint<RunMeta>(straight))!;
    const b = (await loadCheckpoint<RunMeta>(killed))!;
    expect(b.meta.step).toBe(TOTAL);
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [name, t] of a.tensors) expect(b.tensors.get(name)!.data, name).toEqual(t.data);
    expect(b.meta.rng).toEqual(a.meta.rng);
  }, 240_000);

  it('a NaN loss stops training with a clear message and keeps the last good checkpoint', async () => {
    // A DCGAN whose 7th step reports a NaN loss, registered for this test only.
    const poisoned: Family<typeof dcgan.defaults> = {
      ...dcgan,
      create(c, ctx, rng) {
        const model = dcgan.create(c, ctx, rng);
        let steps = 0;
        return { ...model, step: async (next, r) => ({ ...(await model.step(next, r)), ...(++steps === 7 ? { g: NaN } : {}) }) };
      },
    };
    FAMILIES['poisoned'] = poisoned;
    try {
      const out = join(tempDir('nan'), 'run');
      const opts = { model: 'poisoned', data, out, resume: false, batchSize: 32, seed: 3, backend: 'wasm' as const, limit: 256, checkpointEvery: 5, evalN: 0, steps: 20,
        overrides: { generatorChannels: [16, 8], discriminatorChannels: [8, 16], latentSize: 8 } };
      const err = await train(opts, () => {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TrainingDiverged);
      expect((err as Error).message).toBe(`loss g became NaN at step 7; training stopped; the last good checkpoint (step 5) is kept in ${out}`);
      const kept = (await loadCheckpoint<RunMeta>(out))!;
      expect(kept.meta.step).toBe(5);
      for (const [name, t] of kept.tensors) expect(t.data.every(Number.isFinite), name).toBe(true);
    } finally {
      delete FAMILIES['poisoned'];
    }
  });
});
