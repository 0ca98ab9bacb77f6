/**
 * The serving-only install (`npm ci --workspaces=false`, docs/benchmarks.md): the root package.json installs what
 * serving, deploying and pushing models need, and the trainer workspace (trainer/package.json) the rest. Read from
 * the code: every package reachable by imports from what `npm start`, `npm run deploy` and `npm run model:push` run
 * must be a root dependency. And a trainer command on such an install says so in one line.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const pkg = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string> | undefined>;
const root = pkg('package.json');
const trainer = pkg('trainer/package.json');
const rootDeps = new Set([...Object.keys(root['dependencies'] ?? {}), ...Object.keys(root['devDependencies'] ?? {})]);

/**
 * The packages a file reaches through its relative imports (static, dynamic and re-exports), transitively, except
 * through `stops`: modules loaded on demand whose absence is a one-line error.
 */
function packagesReachedFrom(entries: string[], stops: string[]): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>(); // package -> a file that imports it
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, file);
        continue;
      }
      const path = normalize(join(dirname(file), spec));
      const candidates = [path, path.replace(/\.js$/, '.ts'), `${path}.ts`, join(path, 'index.ts')];
      const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
      if (found && !found.includes('node_modules/') && !stops.includes(found)) queue.push(found);
    }
  }
  return packages;
}

describe('the serving-only install', () => {
  it('the trainer workspace holds the training packages, and the root none of them', () => {
    expect(root['workspaces']).toEqual(['trainer']);
    for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'onnxruntime-node']) {
      expect(trainer['dependencies']?.[name], name).toBeDefined();
      expect(rootDeps.has(name), name).toBe(false);
    }
    expect(trainer['optionalDependencies']?.['webgpu']).toBeDefined();
    expect(rootDeps.has('webgpu')).toBe(false);
  });

  it('everything npm start, deploy and model:push run imports only root packages', () => {
    // wrangler's entry and build steps (wrangler.toml [build]), the playground's script, the model:push command.
    const entries = ['edge/worker.ts', 'edge/pages/playground.ts', 'trainer/export/bundle-index.ts', 'scripts/copy-ort-web.mjs', 'scripts/build-pages.mjs', 'trainer/deploy.ts', 'client/index.ts'];
    // model:push of a run (not of an exported model) exports it first: deploy.ts imports the exporter on demand and
    // turns its absence into a one-line error.
    const reached = packagesReachedFrom(entries, ['trainer/export.ts']);
    expect(reached.has('hono')).toBe(true); // the scan does follow imports
    const outside = [...reached].filter(([name]) => !rootDeps.has(name)).map(([name, file]) => `${name} (imported by ${file})`);
    expect(outside).toEqual([]);
  });

  it('a trainer command without the trainer packages is one line and exit code 1', () => {
    // The preload resolves from its own folder: a copy in an empty folder finds no node_modules.
    const dir = tempDir('no-trainer-packages');
    copyFileSync('trainer/cli/require-packages.mjs', join(dir, 'require-packages.mjs'));
    const r = spawnSync(process.execPath, ['--import', join(dir, 'require-packages.mjs'), '-e', 'console.log("ran")'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      "error: the trainer's packages are not installed (@tensorflow/tfjs, onnxruntime-node): this install serves only; run `npm ci` (without --workspaces=false) to train, export or evaluate",
    ]);
    // Installed (here), it lets the command run.
    const ok = spawnSync(process.execPath, ['--import', './trainer/cli/require-packages.mjs', '-e', 'console.log("ran")'], { encoding: 'utf8' });
    expect(ok.stdout.trim()).toBe('ran');
  });
});
