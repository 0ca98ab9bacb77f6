/** workerd run straight from a capnp config, without miniflare: the repro scripts in tests/bench use it. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The workerd binary that miniflare (and so wrangler dev and the worker tests) runs. */
export function miniflareWorkerd(): string {
  return (createRequire(createRequire(import.meta.url).resolve('miniflare'))('workerd') as { default: string }).default;
}

/**
 * Writes `files` (a `config.capnp` among them) into a fresh directory, serves it with workerd `binary`, waits until
 * 127.0.0.1:`port` answers, runs `use` with the process id, then stops workerd.
 */
export async function withPlainWorkerd<T>(binary: string, files: Record<string, string | Uint8Array>, port: number, use: (pid: number) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'plain-workerd-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const child = spawn(binary, ['serve', join(dir, 'config.capnp')], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
    return await use(child.pid!);
  } finally {
    child.kill();
    await new Promise((r) => child.once('exit', r));
  }
}
