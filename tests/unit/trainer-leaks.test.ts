/**
 * The trainer's leaks of issue 26 (fix 6): the VAE's per-epoch reconstruction grid, the checkpoint's optimiser
 * capture, and the exporter's parity check when the graph opens but cannot run. Counted with tfjs' own tensor
 * count and a spy on onnxruntime-node's real session release.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { FAMILIES } from '../../trainer/families/index.js';
import { captureRun } from '../../trainer/run/run-state.js';
import { writeReconstructionGrid, type GridSpec } from '../../trainer/run/samples.js';
import { checkParity } from '../../trainer/export/verify.js';
import { openSession } from '../../trainer/export/ort-node.js';
import { SeededRandom } from '../../shared/rng.js';
import { tempDir } from '../helpers/tmp.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const image = { width: 28, height: 28, channels: 1 as const };
const vae = () => FAMILIES['vae']!.create({ ...FAMILIES['vae']!.defaults, latentSize: 4, hiddenUnits: 16 }, { image, classCount: 0 }, new SeededRandom(1));

describe('trainer leaks', () => {
  it("the VAE's reconstruction grid leaves no tensor behind", async () => {
    const model = vae();
    const real = { data: new Float32Array(4 * 784).fill(0.5), n: 4 };
    const grid: GridSpec = { seed: 1, n: 4, cols: 4, latentSize: 4, distribution: 'normal', image, pixelRange: '0..1' };
    const path = join(tempDir('leaks-'), 'recon.png');
    await writeReconstructionGrid(path, model, real, grid); // the first call may create lazy weights
    const before = tf.memory().numTensors;
    await writeReconstructionGrid(path, model, real, grid);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a checkpoint capture leaves no tensor behind (the optimiser iteration scalar)', async () => {
    const model = vae();
    await captureRun(model, {} as never);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await captureRun(model, {} as never);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the parity check releases its session when the graph cannot run', async () => {
    const graph = new Uint8Array(readFileSync('models/dcgan-fashion/generator.onnx'));
    // The real class of onnxruntime-node's sessions, from one opened (and released) for the purpose.
    const probe = await openSession(graph);
    const sessionClass = Object.getPrototypeOf(probe) as { release(): Promise<void> };
    await probe.release();
    const release = vi.spyOn(sessionClass, 'release');
    const wrongShape = { z: { dtype: 'float32' as const, data: new Float32Array(3), dims: [1, 3] } };
    await expect(checkParity(graph, {} as never, wrongShape, { data: new Float32Array(3), shape: [1, 3] }, ['image'], 1e-4)).rejects.toThrow();
    expect(release).toHaveBeenCalledTimes(1);
    release.mockRestore();
  });
});
