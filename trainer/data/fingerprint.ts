/**
 * A data set's fingerprint: what a ruler (evaluation classifier) was trained on, recorded in its classifier.json, so
 * that a run is measured only with a ruler of its own data (trainer/eval/ruler.ts), whatever the folder is called.
 * Issue 29: a folder of icons linked as `.../emoji` was silently measured with the emoji ruler.
 *
 * Cheap: the SHA-256 of the image files' relative paths and byte sizes (a folder) or of the IDX files' names and
 * sizes (Fashion-MNIST), never their pixels: a listing and one stat per file. Moving or renaming the folder keeps
 * it; adding, removing, renaming or resizing a file changes it.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isIdxDir } from './load.js';
import { scanFolder } from './folder.js';

export interface DataFingerprint {
  sha256: string;
  /** Image files (a folder) or IDX files counted. */
  files: number;
  /** The class names the folder's subfolders give (IDX: none here; its labels are numbers). */
  classNames: string[];
}

const IDX_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** The fingerprint of the data in `dir` (IDX files or an image folder); throws a DataError when there is none. */
export async function dataFingerprint(dir: string): Promise<DataFingerprint> {
  const hash = createHash('sha256');
  if (isIdxDir(dir)) {
    const files = IDX_FILES.flatMap((f) => [f, `${f}.gz`]).filter((f) => existsSync(join(dir, f)));
    for (const f of files) hash.update(`${f}\t${statSync(join(dir, f)).size}\n`);
    return { sha256: hash.digest('hex'), files: files.length, classNames: [] };
  }
  // Size and channels given: the scan reads the listing only, no image headers.
  const scan = await scanFolder(dir, { imageSize: 16, channels: 1, fit: 'crop', background: [255, 255, 255] });
  const lines = scan.sources.map((s) => `${s.rel.split('\\').join('/')}\t${s.size}\n`).sort();
  for (const line of lines) hash.update(line);
  return { sha256: hash.digest('hex'), files: lines.length, classNames: scan.classNames };
}
