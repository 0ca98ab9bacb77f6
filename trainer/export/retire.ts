/**
 * A re-export must not break the URLs people embedded. An avatar is `{id}@{version}/sample.png?seed=...`, pinned so
 * that it never changes when the model is retrained; a new export gets a new (content) version, so the version it
 * replaces has to stay servable. Before new graphs are written into a model's folder, the version there moves to
 * `retired/{version}/` beside them: the bundle index lists it (bundle-index.ts) and the worker serves it at its
 * pinned URLs only, through the pinned-version cache (edge/registry/pinned.ts). Deleting that folder is how an
 * operator stops serving it (those URLs then answer 404).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { writeFileAtomic } from '../run/atomic.js';

export const RETIRED_DIR = 'retired';

/**
 * Moves the version in `dir` to `dir/retired/{version}/` unless it is `nextVersion` (the same weights) or there is
 * none; returns the retired version, or null. Copies graphs first and the manifest last, so a retired folder with a
 * manifest always has its graphs; the caller then overwrites `dir` the same way.
 */
export async function retirePrevious(dir: string, nextVersion: string, log: (line: string) => void): Promise<string | null> {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return null;
  let manifest: Manifest;
  try {
    manifest = validateManifest(JSON.parse(readFileSync(path, 'utf8')));
  } catch (err) {
    // A folder whose manifest never validated never served a pinned URL: nothing to keep.
    log(`${path} is not a valid manifest (${(err as Error).message.split('\n')[0]}): replaced, not kept`);
    return null;
  }
  if (manifest.version === nextVersion) return null;
  const to = join(dir, RETIRED_DIR, manifest.version);
  for (const spec of Object.values(manifest.graphs)) {
    const graph = join(dir, spec.file);
    if (!existsSync(graph)) {
      log(`${manifest.id}@${manifest.version}: ${graph} is missing: replaced, not kept`);
      return null;
    }
    await writeFileAtomic(join(to, spec.file), readFileSync(graph));
  }
  await writeFileAtomic(join(to, 'manifest.json'), readFileSync(path));
  log(`kept ${manifest.id}@${manifest.version} in ${to}: its pinned URLs keep serving the same bytes (delete the folder to stop serving them)`);
  return manifest.version;
}
