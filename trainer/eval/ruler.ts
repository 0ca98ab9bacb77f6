/**
 * Which ruler (evaluation classifier) measures a run: the one trained on the run's own data, found by the data's
 * fingerprint (trainer/data/fingerprint.ts) among rulers/*, never by the folder's name. A ruler of other data gives
 * an FCD curve that means nothing (issue 29: an icon folder linked as `.../emoji` was measured with the emoji
 * ruler), so there is either the right ruler or none, with the reason.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataFingerprint, type DataFingerprint } from '../data/fingerprint.js';
import type { ImageShape } from '../../shared/grid.js';
import { rulerScale, type ClassifierCard } from './classifier-card.js';

export const RULERS_DIR = 'rulers';

export type RulerLookup = { ok: true; dir: string; card: ClassifierCard } | { ok: false; reason: string };

const describe = (files: number, classNames: string[]) =>
  `${files} files${classNames.length ? `, ${classNames.length} classes (${classNames.slice(0, 5).join(', ')}${classNames.length > 5 ? ', ...' : ''})` : ', no classes'}`;

function readCard(dir: string): ClassifierCard | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'classifier.json'), 'utf8')) as ClassifierCard;
  } catch {
    return null;
  }
}

/**
 * The ruler of the data in `dataDir` for images of `image`: `explicit` (a ruler directory) when given, else the
 * one under `root` whose card's `trainedOn` fingerprint is the data's. Otherwise why there is none.
 */
export async function findRuler(dataDir: string, image: ImageShape, explicit?: string, root = RULERS_DIR): Promise<RulerLookup> {
  let fp: DataFingerprint;
  try {
    fp = await dataFingerprint(dataDir);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const dirs = explicit ? [explicit] : existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(root, e.name)).sort() : [];
  const cards = dirs.map((dir) => ({ dir, card: readCard(dir) })).filter((c): c is { dir: string; card: ClassifierCard } => c.card !== null);
  const match = cards.find((c) => c.card.trainedOn?.sha256 === fp.sha256);
  const train = fp.classNames.length >= 2
    ? `; train one: npm run classifier -- --data ${dataDir} --export rulers/NAME`
    : `; train a self-supervised one (no labels needed): npm run classifier -- --data ${dataDir} --rotation --export rulers/NAME`;
  if (!match) {
    const other = explicit ? cards[0] : undefined;
    if (explicit && !other) return { ok: false, reason: `${explicit} holds no classifier.json` };
    if (other) return { ok: false, reason: `${other.dir} was trained on other data (${other.card.trainedOn ? describe(other.card.trainedOn.files, other.card.classNames) : 'no fingerprint recorded'}), not on ${dataDir} (${describe(fp.files, fp.classNames)}): its FCD would mean nothing${train}` };
    return { ok: false, reason: `no ruler in ${root}/ was trained on ${dataDir} (${describe(fp.files, fp.classNames)})${train}` };
  }
  // A smaller run is measured scaled up by a whole factor, as `scale=k` serves it (classifier-runtime.ts).
  const c = match.card.image;
  if (rulerScale(c, image) === null) {
    return { ok: false, reason: `${match.dir} was trained on this data at ${c.width}x${c.height}x${c.channels}, but this run's images are ${image.width}x${image.height}x${image.channels} (a run is measured at the ruler's size, or at a whole fraction of it)` };
  }
  return { ok: true, dir: match.dir, card: match.card };
}
