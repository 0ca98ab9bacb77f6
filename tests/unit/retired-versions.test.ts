/**
 * A re-export of a bundled model must not break the pinned URLs people embedded (README's avatar is
 * `emoji-dcgan@{version}/sample.png?seed=...`): the exporter keeps the version it replaces under
 * `retired/{version}/` (trainer/export/retire.ts), the bundle index lists it, and the app serves it at its pinned URLs
 * only, with the bytes it served before. Real graphs (two bundled models) and onnxruntime-node.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../edge/app.js';
import { bundledFolders } from '../../trainer/export/bundle-index.js';
import { retirePrevious } from '../../trainer/export/retire.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';
import { tempDir } from '../helpers/tmp.js';

type App = ReturnType<typeof createApp>;

async function get(app: App, path: string): Promise<{ status: number; version: string | null; bytes: Uint8Array }> {
  const res = await app.request(path);
  return { status: res.status, version: res.headers.get('X-Model-Version'), bytes: new Uint8Array(await res.arrayBuffer()) };
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { id: string; version: string };

describe('a re-exported bundled model', () => {
  it('keeps the version it replaced at its pinned URLs, byte for byte, and serves the new one everywhere else', { timeout: 60_000 }, async () => {
    const root = tempDir('retire');
    const dir = join(root, 'dcgan-fashion');
    cpSync('models/dcgan-fashion', dir, { recursive: true });
    const old = manifestOf(dir);
    const pinnedOld = [`/v1/models/dcgan-fashion@${old.version}/sample.png?seed=alice%40example.com&scale=2`, `/v1/models/dcgan-fashion@${old.version}/grid.png?seed=1&n=4`];
    const before = createApp({ models: [loadModelDir(dir)], runtime: ortNodeRuntime });
    const bytesBefore = await Promise.all(pinnedOld.map((p) => get(before, p)));
    for (const r of bytesBefore) expect(r.status).toBe(200);

    // The retrained model: other real weights (gan-fashion's graph) exported under the same id, so a new version.
    const next = { ...manifestOf('models/gan-fashion'), id: 'dcgan-fashion' };
    expect(next.version).not.toBe(old.version);
    const lines: string[] = [];
    expect(await retirePrevious(dir, next.version, (l) => lines.push(l))).toBe(old.version);
    expect(lines.join('\n')).toContain(`kept dcgan-fashion@${old.version}`);
    cpSync('models/gan-fashion/generator.onnx', join(dir, 'generator.onnx'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(next));
    expect(bundledFolders(root)).toEqual({ ids: ['dcgan-fashion'], retired: [`dcgan-fashion/retired/${old.version}`] });

    const retiredDir = join(dir, 'retired', old.version);
    const after = createApp({ models: [loadModelDir(dir)], retired: [loadModelDir(retiredDir)], runtime: ortNodeRuntime });
    for (const [i, path] of pinnedOld.entries()) {
      const r = await get(after, path);
      expect(r.status, path).toBe(200);
      expect(r.version).toBe(old.version);
      expect(r.bytes, path).toEqual(bytesBefore[i]!.bytes);
    }
    // The unpinned URL and the listing follow the new version; the retired one is not listed as a model.
    const unpinned = await get(after, '/v1/models/dcgan-fashion/sample.png?seed=alice%40example.com&scale=2');
    expect(unpinned.version).toBe(next.version);
    expect(unpinned.bytes).not.toEqual(bytesBefore[0]!.bytes);
    const list = (await (await after.request('/v1/models')).json()) as { models: { id: string; version: string }[] };
    expect(list.models.map((m) => `${m.id}@${m.version}`)).toEqual([`dcgan-fashion@${next.version}`]);
    expect((await get(after, `/v1/models/dcgan-fashion@${next.version}/sample.png?seed=1`)).status).toBe(200);
    expect((await get(after, '/v1/models/dcgan-fashion@0123456789ab/sample.png?seed=1')).status).toBe(404);

    // What happened before retirement existed: the same app without the kept version answers its URLs 404.
    const forgetful = createApp({ models: [loadModelDir(dir)], runtime: ortNodeRuntime });
    expect((await get(forgetful, pinnedOld[0]!)).status).toBe(404);

    // Exporting the same weights again keeps nothing new.
    expect(await retirePrevious(dir, next.version, () => {})).toBeNull();
    expect(existsSync(join(dir, 'retired', next.version))).toBe(false);
  });

  it('a kept version whose graph was tampered with is a 503, never other bytes', async () => {
    const root = tempDir('retire-bad');
    const dir = join(root, 'dcgan-fashion');
    cpSync('models/dcgan-fashion', dir, { recursive: true });
    const old = manifestOf(dir);
    await retirePrevious(dir, 'ffffffffffff', () => {});
    const retiredDir = join(dir, 'retired', old.version);
    cpSync('models/gan-fashion/generator.onnx', join(retiredDir, 'generator.onnx'));
    const app = createApp({ models: [loadModelDir('models/gan-fashion')], retired: [loadModelDir(retiredDir)], runtime: ortNodeRuntime });
    expect((await get(app, `/v1/models/dcgan-fashion@${old.version}/sample.png?seed=1`)).status).toBe(503);
  });
});
