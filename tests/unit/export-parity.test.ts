/**
 * The exporter's parity check stops a bad export: a graph built from weights that differ from the trained network
 * (one kernel value moved by 0.05) fails the export with an ExportError, and nothing is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tf } from '../../trainer/backend/tf.js';
import type { ExportedGraph } from '../../trainer/families/family.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { tempDir } from '../helpers/tmp.js';
import { tinyRun } from '../helpers/tiny-run.js';

const perturb = { on: false };

vi.mock('../../trainer/export/graph-for.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../trainer/export/graph-for.js')>();
  return {
    ...actual,
    // While `perturb.on`, the graph is written from weights nudged away from the network's, which are then restored:
    // exactly the kind of exporter bug the parity check exists to catch.
    async buildGraph(exp: ExportedGraph, ctx: Parameters<typeof actual.buildGraph>[1]) {
      if (!perturb.on) return actual.buildGraph(exp, ctx);
      const variable = [...exp.network.variables].find(([n]) => n.endsWith('.kernel'))![1];
      const original = variable.clone();
      variable.assign(tf.tidy(() => tf.add(original, tf.oneHot(tf.tensor1d([0], 'int32'), original.size).cast('float32').mul(0.05).reshape(original.shape))));
      try {
        return await actual.buildGraph(exp, ctx);
      } finally {
        variable.assign(original);
        original.dispose();
      }
    },
  };
});

const { train } = await import('../../trainer/train.js');
const { exportRun } = await import('../../trainer/export.js');

describe('export parity', () => {
  it('a graph that does not reproduce the network fails the export, and no file is written', async () => {
    const folder = await makeImageFolder({ classes: ['a'], perClass: 8, broken: false });
    const run = join(tempDir('parity'), 'run');
    await train(tinyRun('dcgan', folder.dir, run, { steps: 1, overrides: { latentSize: 4, baseChannels: 8 } }), () => {});
    const good = join(tempDir('parity-out'), 'good');
    await exportRun({ run, out: good, id: 'good' }, () => {});
    expect(existsSync(join(good, 'manifest.json'))).toBe(true);

    perturb.on = true;
    const bad = join(tempDir('parity-out'), 'bad');
    await expect(exportRun({ run, out: bad, id: 'bad' }, () => {})).rejects.toMatchObject({ name: 'ExportError', message: expect.stringMatching(/ONNX graph differs from the tfjs model/) });
    perturb.on = false;
    expect(existsSync(bad)).toBe(false);
  });
});
