/**
 * GPU faults stop a run cleanly (trainer/backend/webgpu.ts): a validation error inside a step fails that step with
 * a GpuFault that names it, the last checkpoint stays byte for byte, and --resume continues on another backend; a
 * lost device fails the next step, and selecting webgpu again gets a new device; no adapter is one line and exit 1.
 */
import './swiftshader.js';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { findAdapter, webGpuRuntime } from '../../trainer/backend/webgpu.js';
import { tf } from '../../trainer/backend/tf.js';
import { train } from '../../trainer/train.js';
import { fashionMnistDir } from '../helpers/idx-files.js';
import { tempDir } from '../helpers/tmp.js';

const quiet = () => {};
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('GPU faults (SwiftShader)', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('a validation error fails its step; the checkpoint stays; --resume continues on cpu', async () => {
    const out = join(tempDir('webgpu-fault'), 'run');
    const base = { model: 'dcgan', data: fashionMnistDir(), out, resume: false, batchSize: 8, seed: 3, limit: 32, checkpointEvery: 2, evalN: 0, overrides: { generatorChannels: [16, 8], discriminatorChannels: [8, 16], latentSize: 8 } } as const;
    await train({ ...base, backend: 'webgpu', steps: 2 }, quiet);
    const saved = sha(join(out, 'checkpoint.bin'));

    // A kernel of the loss that also makes an invalid GPU call, as a broken kernel would.
    const stock = tf.getKernel('Softplus', 'webgpu')!;
    tf.unregisterKernel('Softplus', 'webgpu');
    tf.registerKernel({ ...stock, kernelFunc: (args) => {
      (webGpuRuntime()!.device.createBuffer as (d: object) => unknown)({ size: 16, usage: 0xffff });
      return stock.kernelFunc(args);
    } });
    try {
      await expect(train({ ...base, resume: true, overrides: {}, backend: 'webgpu', steps: 4 }, quiet)).rejects.toThrow(
        /^GPU GPUValidationError: .*WGPUBufferUsage.* \(step 3\); training stopped; the last good checkpoint \(step 2\) is kept in .*; continue with --resume/,
      );
    } finally {
      tf.unregisterKernel('Softplus', 'webgpu');
      tf.registerKernel(stock);
    }
    expect(sha(join(out, 'checkpoint.bin'))).toBe(saved);
    const resumed = await train({ ...base, resume: true, overrides: {}, backend: 'cpu', steps: 4 }, quiet);
    expect(resumed.step).toBe(4);
    expect(Object.values(resumed.losses).every(Number.isFinite)).toBe(true);
  });

  it('a lost device fails the next step; webgpu selected again runs on a new device', async () => {
    await selectBackend('webgpu');
    const runtime = webGpuRuntime()!;
    runtime.device.destroy();
    await expect(runtime.guard(async () => (await tf.add(tf.ones([4]), 1).data())[0])).rejects.toThrow(/^GPU device lost \(destroyed\)/);
    const fresh = await selectBackend('webgpu');
    expect(webGpuRuntime()).not.toBe(runtime);
    expect(Array.from(await fresh.guard(() => tf.add(tf.ones([4]), 1).data()))).toEqual([2, 2, 2, 2]);
  });

  it('an unknown --gpu-adapter lists the adapters there are', async () => {
    const found = await findAdapter('no-such-gpu');
    expect('missing' in found && found.missing).toMatch(/no-such-gpu.*SwiftShader/);
  });

  it('--backend webgpu without an adapter prints one line naming what it looked for and exits 1', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'trainer/train.ts', '--backend', 'webgpu', '--out', join(tempDir('noadapter'), 'run'), '--steps', '1'], {
      encoding: 'utf8',
      env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' },
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--backend webgpu: no WebGPU adapter: looked for the Vulkan loader libvulkan\.so\.1 .*VK_DRIVER_FILES=\/nonexistent.*apt-get install|VK_ICD_FILENAMES=/);
  });
});
