/**
 * `class` by label or by index, inside workerd: a conditional model takes either, and an unknown one is a 400 that
 * says the model's own range and labels (issue 29: "class=apps" on a 5-class model was told "[0, 999]").
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { validateManifest } from '../../shared/manifest.js';

const cgan = bundledManifests.map((b) => validateManifest(b.manifest)).find((m) => m.classes.count > 0)!;
const get = (rest: string) => SELF.fetch(`http://edge.test/v1/models/${cgan.id}/${rest}`);
const bytes = async (res: Response) => {
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
};

describe('class by label', () => {
  it('a label draws the same image as its index, in sample.png, grid.png and interpolate.png', async () => {
    const k = cgan.classes.count - 1;
    const label = encodeURIComponent(cgan.classes.labels[k]!);
    expect(await bytes(await get(`sample.png?seed=4&class=${label}`))).toEqual(await bytes(await get(`sample.png?seed=4&class=${k}`)));
    expect(await bytes(await get(`grid.png?seed=4&n=4&class=${label}`))).toEqual(await bytes(await get(`grid.png?seed=4&n=4&class=${k}`)));
    expect(await bytes(await get(`interpolate.png?from=1&to=2&steps=3&class=${label}`))).toEqual(await bytes(await get(`interpolate.png?from=1&to=2&steps=3&class=${k}`)));
  });

  it('an unknown label or index says the model range and its labels', async () => {
    for (const bad of ['apps', String(cgan.classes.count), '-1']) {
      const res = await get(`sample.png?seed=1&class=${bad}`);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string; allowed: { min: number; max: number; labels: string[] } } };
      expect(error.code).toBe('invalid_parameter');
      expect(error.message).toBe(`"class" must be an integer in [0, ${cgan.classes.count - 1}] or a label (${cgan.classes.labels.join(', ')}), got "${bad}"`);
      expect(error.allowed).toEqual({ min: 0, max: cgan.classes.count - 1, labels: cgan.classes.labels });
    }
  });
});
