/** Exported model directories read from disk into the app's BundledModel shape (Node tests). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundledModel } from '../../edge/model-source.js';

export function loadModelDir(dir: string): BundledModel {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { graphs: Record<string, { file: string }> };
  const graphs = Object.fromEntries(Object.entries(manifest.graphs).map(([role, g]) => [role, new Uint8Array(readFileSync(join(dir, g.file)))]));
  return { manifest, graphs };
}
