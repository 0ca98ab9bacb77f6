/**
 * The wasm backend in a process of its own. On several threads (trainer/backend/wasm-threads.ts), a run trains
 * bit-identical weights to a run on one thread, says how many threads it used, and its process ends by itself (the
 * pool's workers must not keep it alive: spawnSync's timeout would leave a null status). Either way, an uncaught
 * error after the backend started is reported as Node reports it, not from inside emscripten's glue.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../trainer/run/checkpoint.js';
import type { RunMeta } from '../../trainer/run/run-state.js';
import { fashionMnistDir } from '../helpers/idx-files.js';
import { tempDir } from '../helpers/tmp.js';

const data = fashionMnistDir();

function trainOn(threads: number) {
  const out = join(tempDir(`threads${threads}`), 'run');
  const args = ['--import', 'tsx', 'trainer/train.ts', '--backend', 'wasm', '--threads', String(threads), '--data', data, '--out', out, '--steps', '6',
    '--limit', '256', '--batch-size', '32', '--generator-channels', '32,16', '--discriminator-channels', '16,32', '--eval-n', '0', '--seed', '4'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  return { out, status: r.status, stderr: r.stderr };
}

describe('wasm backend in its own process', () => {
  it('trains the same weights as one thread and exits by itself', async () => {
    const one = trainOn(1);
    const two = trainOn(2);
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    expect(one.stderr).toContain('tfjs-backend-wasm (XNNPACK, SIMD, 1 thread)');
    expect(two.stderr).toContain('tfjs-backend-wasm (XNNPACK, SIMD, 2 threads)');
    // The convolutions ran on onnxruntime-node (its pool sized the same), and still bit-identically.
    expect(two.stderr).toContain('convolutions, batch norm and tanh on onnxruntime-node (native)');
    const a = (await loadCheckpoint<RunMeta>(one.out))!;
    const b = (await loadCheckpoint<RunMeta>(two.out))!;
    expect(b.meta.step).toBe(6);
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [name, t] of a.tensors) expect(b.tensors.get(name)!.data, name).toEqual(t.data);
  }, 240_000);

  it.each([1, 2])('an uncaught error after the backend started on %i thread(s) is reported plainly', (threads) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'tests/helpers/throw-after-wasm.ts', String(threads)], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error: thrown after the wasm backend started');
    expect(r.stderr).not.toContain('WasmBackendModule');
    expect(r.stderr.length).toBeLessThan(5000);
  });
});
