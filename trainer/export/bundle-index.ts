/**
 * edge/registry/bundled.ts: the exported models the worker serves (their manifests under models/, bundled as JSON;
 * the graphs are static assets). Generated, never edited and not tracked by git (.gitignore): a user's own exports
 * under models/ must not dirty the checkout (issue 29). Written after `npm install` (postinstall), before every
 * worker build (wrangler.toml's [build] command: npm start, npm run deploy), by the exporter, and by
 * `npm run models:bundle`. Rewritten only when its text changes, so a watching build does not loop.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../run/atomic.js';
import { RETIRED_DIR } from './retire.js';

export const MODELS_DIR = 'models';
export const BUNDLE_INDEX = 'edge/registry/bundled.ts';

/** The folders under `dir` that hold a manifest.json, sorted. */
function modelDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'manifest.json')))
    .map((d) => d.name)
    .sort();
}

/** The model folders under `dir`, and the versions re-exports replaced (retire.ts) as `{id}/retired/{version}`. */
export function bundledFolders(dir = MODELS_DIR): { ids: string[]; retired: string[] } {
  const ids = modelDirs(dir);
  return { ids, retired: ids.flatMap((id) => modelDirs(join(dir, id, RETIRED_DIR)).map((v) => `${id}/${RETIRED_DIR}/${v}`)) };
}

export async function writeBundleIndex(dir = MODELS_DIR, log: (line: string) => void = () => {}): Promise<string[]> {
  const { ids, retired } = bundledFolders(dir);
  const all = [...ids, ...retired];
  const text = [
    '// Generated from models/ (trainer/export/bundle-index.ts; npm run models:bundle): the models the worker serves.',
    '// Not tracked by git; rewritten by npm install, every worker build and the exporter. Do not edit.',
    '// Manifests are bundled; graphs are static assets read through the ASSETS binding (wrangler.toml).',
    "import type { BundledManifest } from './source.js';",
    ...all.map((d, i) => `import manifest${i} from '../../${dir}/${d}/manifest.json';`),
    '',
    'export const bundledManifests: BundledManifest[] = [',
    ...ids.map((id, i) => `  { dir: '${id}', manifest: manifest${i} },`),
    '];',
    '',
    '/** Versions that re-exports replaced (trainer/export/retire.ts): served at their pinned URLs only. */',
    'export const retiredManifests: BundledManifest[] = [',
    ...retired.map((d, i) => `  { dir: '${d}', manifest: manifest${ids.length + i} },`),
    '];',
    '',
  ].join('\n');
  const before = existsSync(BUNDLE_INDEX) ? readFileSync(BUNDLE_INDEX, 'utf8') : null;
  if (before !== text) await writeFileAtomic(BUNDLE_INDEX, text);
  log(`${BUNDLE_INDEX} lists ${ids.length} model(s): ${ids.join(', ') || '(none)'}${retired.length ? `, and ${retired.length} retired version(s) for their pinned URLs` : ''}`);
  return ids;
}

if (process.argv[1]?.endsWith('bundle-index.ts')) await writeBundleIndex();
