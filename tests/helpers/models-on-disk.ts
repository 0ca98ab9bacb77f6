/** Exported model directories read from disk as the app's ModelSource (Node tests). */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSource } from '../../edge/registry/source.js';

export function loadModelDir(dir: string): ModelSource {
  return { manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), readFile: async (file) => new Uint8Array(await readFile(join(dir, file))) };
}
