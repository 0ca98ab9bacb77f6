/**
 * `--backend auto` on a machine without a GPU: it trains on wasm and prints nothing from Vulkan. Before, it asked Dawn
 * for an adapter on every run, and on a machine with Mesa's lavapipe (this one: Debian's mesa-vulkan-drivers, no
 * /dev/dri) Dawn printed a three-line "Vulkan shaderUniform*ArrayDynamicIndexing required" warning first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mayHaveGpu } from '../../trainer/backend/webgpu.js';

const script = "const { selectBackend } = await import('./trainer/backend/select.ts'); const b = await selectBackend('auto', 1); console.log(b.name);";

describe('--backend auto', () => {
  it('on a Linux machine without a GPU device, picks wasm without asking Dawn (nothing on stderr)', { timeout: 60_000 }, () => {
    const env = { ...process.env };
    delete env['VK_ICD_FILENAMES'];
    delete env['VK_DRIVER_FILES'];
    const renderNode = existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
    const gpuHere = process.platform !== 'linux' || renderNode || existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
    // On a machine that shows a GPU, 'auto' must ask Dawn: that is all there is to check here.
    if (gpuHere) return expect(mayHaveGpu()).toBe(true);
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('wasm');
    expect(r.status).toBe(0);
  });

  it('asks Dawn when an ICD is chosen by hand (SwiftShader in CI, NVIDIA on a GPU machine)', () => {
    const before = process.env['VK_ICD_FILENAMES'];
    process.env['VK_ICD_FILENAMES'] = '/usr/lib/chromium/vk_swiftshader_icd.json';
    try {
      expect(mayHaveGpu()).toBe(true);
    } finally {
      if (before === undefined) delete process.env['VK_ICD_FILENAMES'];
      else process.env['VK_ICD_FILENAMES'] = before;
    }
  });
});
