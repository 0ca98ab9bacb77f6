/**
 * A folder of the user's own images as a data set: PNG, JPEG, WebP and the first frame of a GIF, found
 * recursively, decoded by shared/decode-image.ts (PNG, JPEG: the edge's decoder) or sharp (WebP, GIF) and turned into model inputs by shared/preprocess.ts, the function the
 * edge's encode route calls too. Labels are the first-level subfolder names, sorted (a folder with no subfolders is
 * unlabelled), or come from a CSV of `path,label` lines.
 *
 * Decoding happens once: the result is cached under ~/.cache/edge-generative/datasets, keyed by every source file's
 * path, size and modification time and by the options, so later epochs, runs and resumes read one file.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { preprocessImage, formatBackground, type FitMode, type PreprocessOptions } from '../../shared/preprocess.js';
import { decodeImage, sniffImageType } from '../../shared/decode-image.js';
import type { RasterImage } from '../../shared/png.js';
import { writeFileAtomic } from '../run/atomic.js';
import { ProgressBar } from '../cli/progress.js';
import { DataError, type ImageDataset } from './idx.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif'];
/** Side used when the images do not all share one. */
export const DEFAULT_IMAGE_SIZE = 64;
export const IMAGE_SIZE_RANGE = [16, 128] as const;
/** Largest source image, in pixels (a 100 MP camera's): both decoders refuse a larger one from its header. */
const MAX_SOURCE_PIXELS = 100_000_000;
const CACHE_FORMAT = 3; // 2: PNG and JPEG decoded by shared/decode-image.ts; 3: every PNG variant too

export interface FolderOptions {
  /** Output side; default: the images' side when all are square and share one, else 64. */
  imageSize?: number;
  /** Default: 3 if any image has colour. */
  channels?: 1 | 3;
  fit: FitMode;
  background: [number, number, number];
  /** CSV of `path,label` (paths relative to the folder): overrides the subfolder names. */
  labelsFile?: string;
  /** Where decoded data sets are cached; default ~/.cache/edge-generative/datasets. */
  cacheDir?: string;
}

export interface FolderDataset extends ImageDataset {
  /** The preprocessing every image went through: recorded in the manifest, applied again by the edge. */
  preprocess: PreprocessOptions;
  /** Files that could not be decoded, with why. */
  skipped: { file: string; reason: string }[];
}

export interface Source {
  path: string;
  rel: string;
  label: string | null;
  size: number;
  mtimeMs: number;
}

async function walk(dir: string, root: string, out: Source[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path, root, out);
    else if (e.isFile() && IMAGE_EXTENSIONS.some((x) => e.name.toLowerCase().endsWith(x))) {
      const s = await stat(path);
      const rel = relative(root, path);
      out.push({ path, rel, label: rel.includes(sep) ? rel.split(sep)[0]! : null, size: s.size, mtimeMs: s.mtimeMs });
    }
  }
}

/** `path,label` lines (a header line `path,label` is allowed); every path must be one of the folder's images. */
async function readLabels(file: string, sources: Source[]): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DataError(`--labels ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const known = new Set(sources.map((s) => s.rel));
  const labels = new Map<string, string>();
  const missing: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || (i === 0 && /^\s*path\s*,\s*label\s*$/i.test(line))) return;
    const comma = line.lastIndexOf(',');
    if (comma < 0) throw new DataError(`--labels ${file}:${i + 1}: expected "path,label", got "${line.slice(0, 80)}"`);
    const path = line.slice(0, comma).trim().replace(/^\.\//, '');
    const label = line.slice(comma + 1).trim();
    if (!label) throw new DataError(`--labels ${file}:${i + 1}: empty label`);
    if (!known.has(path)) missing.push(path);
    labels.set(path, label);
  });
  if (missing.length > 0) throw new DataError(`--labels ${file} names ${missing.length} file(s) that are not images in the folder: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`);
  return labels;
}

/** Runs `work` over `items` with at most `limit` at a time, in order of results. */
async function pool<T, R>(items: T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  }));
  return out;
}

/**
 * A file's pixels at its own size. PNG and JPEG files go through the edge's decoder (shared/decode-image.ts) and only
 * through it: training and serving see the same pixels, and the trainer takes exactly the PNG and JPEG files the
 * encode route takes (a file it refuses is skipped with the route's reason). WebP and GIF's first frame go through
 * sharp (the edge takes neither).
 */
async function decodeFile(path: string): Promise<RasterImage> {
  const bytes = new Uint8Array(await readFile(path));
  const type = sniffImageType(bytes);
  if (type) return decodeImage(bytes, type, MAX_SOURCE_PIXELS);
  if (bytes.length === 0) throw new DataError('empty file (0 bytes)');
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_SOURCE_PIXELS, pages: 1, failOn: 'error' })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function cacheRoot(opts: FolderOptions): string {
  return opts.cacheDir ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'edge-generative', 'datasets');
}

/** What a folder holds before any pixel is decoded: its images, their labels and the preprocessing they will get. */
export interface FolderScan {
  root: string;
  sources: Source[];
  labelOf: (s: Source) => string | null;
  /** Empty for an unlabelled folder (no class subfolders, no --labels). */
  classNames: string[];
  preprocess: PreprocessOptions;
}

/**
 * Walks `dir` and reads the images' headers (no pixels): fast, so the trainer checks the data against the model
 * (trainer/cli/preflight.ts) before it loads a backend or decodes anything. Throws a one-line DataError.
 */
export async function scanFolder(dir: string, opts: FolderOptions, log: (line: string) => void = () => {}): Promise<FolderScan> {
  const root = resolve(dir);
  if (!existsSync(root)) throw new DataError(`--data ${dir}: no such directory`);
  if (!statSync(root).isDirectory()) throw new DataError(`--data ${dir} is a file, not a folder: give the folder that holds the images (or the IDX files)`);
  const all: Source[] = [];
  await walk(root, root, all);
  if (all.length === 0) throw new DataError(`--data ${dir}: no images (${IMAGE_EXTENSIONS.join(', ')}) in this folder or below`);
  const csv = opts.labelsFile ? await readLabels(opts.labelsFile, all) : undefined;
  const labelOf = (s: Source) => (csv ? (csv.get(s.rel) ?? null) : s.label);
  const labelled = csv !== undefined || all.some((s) => s.label !== null);
  const sources = labelled ? all.filter((s) => labelOf(s) !== null) : all;
  const unlabelled = all.length - sources.length;
  if (unlabelled > 0) log(`data: ${unlabelled} image(s) outside the class subfolders (or not in --labels) are left out`);
  const classNames = labelled ? [...new Set(sources.map((s) => labelOf(s)!))].sort() : [];
  if (classNames.length > 255) throw new DataError(`--data ${dir}: ${classNames.length} classes; at most 255 are supported`);

  // Defaults from the headers alone (sharp reads no pixels for metadata).
  const metas = opts.imageSize !== undefined && opts.channels !== undefined ? [] : await pool(sources, 8, (s) => sharp(s.path, { limitInputPixels: MAX_SOURCE_PIXELS }).metadata().then((m) => m, () => null));
  const sides = new Set(metas.filter((m) => m && m.width === m.height).map((m) => m!.width));
  const allSquareSame = sides.size === 1 && metas.every((m) => !m || m.width === m.height);
  const imageSize = opts.imageSize ?? (allSquareSame ? Math.min(IMAGE_SIZE_RANGE[1], Math.max(IMAGE_SIZE_RANGE[0], [...sides][0]!)) : DEFAULT_IMAGE_SIZE);
  const channels = opts.channels ?? (metas.some((m) => m && (m.channels ?? 1) >= 3 && m.space !== 'b-w') ? 3 : 1);
  return { root, sources, labelOf, classNames, preprocess: { size: imageSize, channels, fit: opts.fit, background: opts.background } };
}

/** Loads (or reads from the cache) the folder `dir` as a data set. */
export async function loadFolderDataset(dir: string, opts: FolderOptions, log: (line: string) => void = () => {}): Promise<FolderDataset> {
  const { root, sources: kept, labelOf, classNames, preprocess } = await scanFolder(dir, opts, log);
  const labelled = classNames.length > 0;
  const { size: imageSize, channels } = preprocess;
  const key = createHash('sha256')
    .update(JSON.stringify({ format: CACHE_FORMAT, files: kept.map((s) => [s.rel, s.size, s.mtimeMs, labelOf(s)]), preprocess }))
    .digest('hex')
    .slice(0, 32);
  const cacheFile = join(cacheRoot(opts), `${key}.bin`);
  const name = basename(root);
  const cached = await readCache(cacheFile);
  if (cached) {
    log(`data: ${cached.count} images from the cache ${cacheFile}`);
    return { name, ...cached, shape: { width: imageSize, height: imageSize, channels }, classNames, preprocess };
  }

  const pixels = imageSize * imageSize * channels;
  const images = new Uint8Array(kept.length * pixels);
  const labels = new Uint8Array(kept.length);
  const ok = new Uint8Array(kept.length);
  const skipped: FolderDataset['skipped'] = [];
  const progress = new ProgressBar(kept.length, `decoding ${name}`, 5000, 'images');
  let done = 0;
  const started = performance.now();
  await pool(kept, 4, async (s, i) => {
    try {
      images.set(preprocessImage(await decodeFile(s.path), preprocess), i * pixels);
      labels[i] = labelled ? classNames.indexOf(labelOf(s)!) : 0;
      ok[i] = 1;
    } catch (err) {
      skipped.push({ file: s.rel, reason: (err as Error).message.split('\n')[0]! });
    }
    done++;
    progress.update(done, {}, (done * 1000) / (performance.now() - started + 1e-9), done === kept.length);
  });
  progress.finish();
  // Keep the decoded ones, in source order.
  let count = 0;
  for (let i = 0; i < kept.length; i++) {
    if (!ok[i]) continue;
    if (count !== i) images.copyWithin(count * pixels, i * pixels, (i + 1) * pixels);
    labels[count++] = labels[i]!;
  }
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1));
  if (skipped.length > 0) log(`data: skipped ${skipped.length} unreadable file(s): ${skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join('; ')}${skipped.length > 3 ? '; ...' : ''}`);
  if (count === 0) throw new DataError(`--data ${dir}: none of the ${kept.length} image files could be decoded`);
  const result = { images: images.slice(0, count * pixels), labels: labels.slice(0, count), count, skipped };
  await writeCache(cacheFile, result);
  log(`data: decoded ${count} images to ${imageSize}x${imageSize}x${channels} (fit ${opts.fit}, background ${formatBackground(opts.background)}); cached in ${cacheFile}`);
  return { name, ...result, shape: { width: imageSize, height: imageSize, channels }, classNames, preprocess };
}

type Cached = Pick<FolderDataset, 'images' | 'labels' | 'count' | 'skipped'>;

/** Cache file: 4-byte header length, a JSON header, the labels, then the image bytes. */
async function writeCache(file: string, d: Cached): Promise<void> {
  const header = new TextEncoder().encode(JSON.stringify({ format: CACHE_FORMAT, count: d.count, skipped: d.skipped }));
  const out = new Uint8Array(4 + header.length + d.labels.length + d.images.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(d.labels, 4 + header.length);
  out.set(d.images, 4 + header.length + d.labels.length);
  await writeFileAtomic(file, out);
}

async function readCache(file: string): Promise<Cached | null> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch {
    return null;
  }
  try {
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as { format: number; count: number; skipped: Cached['skipped'] };
    if (header.format !== CACHE_FORMAT) return null;
    const labels = bytes.slice(4 + n, 4 + n + header.count);
    return { count: header.count, skipped: header.skipped, labels, images: bytes.slice(4 + n + header.count) };
  } catch {
    return null; // a damaged cache is decoded again
  }
}
