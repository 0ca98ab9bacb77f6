/**
 * `npm run data:emoji [-- --out data/emoji] [--sample-grid FILE.png]`: the Noto Emoji images (Apache-2.0) of the npm package
 * emoji-datasource-google@16.0.0 (MIT) as a labelled image folder for `npm run train -- --data data/emoji`:
 * one subfolder per category of its emoji.json (a skin-tone variant takes its base emoji's category; the 5-glyph
 * "Component" category is dropped), each 64x64 PNG composited over white.
 *
 * The package (74 MB) comes through npm alone: `npm pack` into ~/.cache/edge-generative/, once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseFlags, UsageError } from '../trainer/cli/options.js';
import { runCli } from '../trainer/cli/main.js';
import { writeFile } from 'node:fs/promises';
import { SeededRandom } from '../shared/rng.js';
import { encodePng } from '../shared/png.js';
import { tileImages } from '../shared/grid.js';

const PACKAGE = 'emoji-datasource-google@16.0.0';
const DROPPED = new Set(['Component']);

interface EmojiEntry {
  image: string;
  category: string;
  has_img_google?: boolean;
  skin_variations?: Record<string, { image: string; has_img_google?: boolean }>;
}

/** The unpacked package, fetched with `npm pack` into the cache the first time. */
function emojiPackage(): string {
  const cache = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'edge-generative', 'emoji-datasource-google-16.0.0');
  if (existsSync(join(cache, 'package', 'emoji.json'))) return join(cache, 'package');
  const tmp = `${cache}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  process.stderr.write(`fetching ${PACKAGE} with npm pack (74 MB)...\n`);
  const file = execFileSync('npm', ['pack', '--silent', PACKAGE], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').at(-1)!;
  execFileSync('tar', ['xzf', file], { cwd: tmp });
  rmSync(join(tmp, file));
  rmSync(cache, { recursive: true, force: true });
  renameSync(tmp, cache);
  return join(cache, 'package');
}

/** Every (image file, category) pair: base emoji and skin-tone variants, Google images only. */
export function emojiImages(entries: EmojiEntry[]): { image: string; category: string }[] {
  const out: { image: string; category: string }[] = [];
  for (const e of entries) {
    if (DROPPED.has(e.category)) continue;
    if (e.has_img_google !== false) out.push({ image: e.image, category: e.category });
    for (const v of Object.values(e.skin_variations ?? {})) if (v.has_img_google !== false) out.push({ image: v.image, category: e.category });
  }
  return out;
}

await runCli(async () => {
  const { values } = parseFlags({ args: process.argv.slice(2), options: { out: { type: 'string', default: 'data/emoji' }, 'sample-grid': { type: 'string' } } });
  const out = values.out!;
  const pkg = emojiPackage();
  const entries = JSON.parse(readFileSync(join(pkg, 'emoji.json'), 'utf8')) as EmojiEntry[];
  const images = emojiImages(entries).filter(({ image }) => existsSync(join(pkg, 'img', 'google', '64', image)));
  if (images.length === 0) throw new UsageError(`${pkg}: no images found in img/google/64`);
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const counts = new Map<string, number>();
  for (const { image, category } of images) {
    mkdirSync(join(tmp, category), { recursive: true });
    await sharp(join(pkg, 'img', 'google', '64', image)).flatten({ background: '#ffffff' }).png().toFile(join(tmp, category, image));
    counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  for (const [category, n] of [...counts].sort()) console.log(`${String(n).padStart(5)}  ${category}`);
  // --sample-grid FILE: 64 of the images (a seeded draw), 8 x 8, as the models' grids are drawn (README).
  if (values['sample-grid']) {
    const pick = new SeededRandom(1).permutation(images.length).subarray(0, 64);
    const tiles = await Promise.all(Array.from(pick, async (i) => {
      const { image, category } = images[i]!;
      return sharp(join(out, category, image)).removeAlpha().raw().toBuffer();
    }));
    const data = new Uint8Array(64 * 64 * 64 * 3);
    tiles.forEach((t, i) => data.set(t, i * t.length));
    await writeFile(values['sample-grid'], encodePng(tileImages(data, 64, { width: 64, height: 64, channels: 3 }, 8)));
    console.log(`wrote ${values['sample-grid']}: 64 real emoji`);
  }
  console.log(`${images.length} images in ${out}; train with: npm run train -- --data ${out}`);
}, 'usage: npm run data:emoji -- [--out data/emoji] [--sample-grid FILE.png] (the Noto Emoji images, one subfolder per category)');
