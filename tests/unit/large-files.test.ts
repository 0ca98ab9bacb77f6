/**
 * .ci/large-files.sh, the CI check that keeps the clone from growing: on a real (temporary) git repository, a file
 * over 10 MB outside models/ and checkpoints/ fails it with the file named, and the same size inside them passes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const script = resolve('.ci/large-files.sh');
const MB = 1024 * 1024;

function repoWith(files: Record<string, number>): string {
  const dir = tempDir('large-files');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '-q');
  for (const [file, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), new Uint8Array(bytes));
  }
  git('add', '.');
  git('commit', '-q', '-m', 'files');
  return dir;
}

const check = (dir: string) => spawnSync('bash', [script, dir], { encoding: 'utf8' });

describe('.ci/large-files.sh', () => {
  it('fails on a file over 10 MB outside models/ and checkpoints/, naming it', () => {
    const r = check(repoWith({ 'runs/epoch-12.bin': 10 * MB + 1, 'docs/small.png': 1000 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('runs/epoch-12.bin (10.0 MB)');
    expect(r.stderr).not.toContain('small.png');
  });

  it('passes with large weights in models/ and checkpoints/ and 10 MB exactly elsewhere', () => {
    const r = check(repoWith({ 'models/big/generator.onnx': 11 * MB, 'checkpoints/run/checkpoint.bin': 11 * MB, 'data/edge.bin': 10 * MB }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('passes on this repository', () => {
    expect(check('.').status).toBe(0);
  });
});
