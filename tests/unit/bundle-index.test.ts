/**
 * edge/registry/bundled.ts is generated from models/ and not tracked (issue 29: `npm run export` of a user's model
 * dirtied the checkout): it is ignored by git, lists exactly the model folders, and is not rewritten unchanged.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_INDEX, MODELS_DIR, writeBundleIndex } from '../../trainer/export/bundle-index.js';

describe('the bundle index', () => {
  it('is ignored by git and not in its index', () => {
    expect(execFileSync('git', ['check-ignore', BUNDLE_INDEX], { encoding: 'utf8' }).trim()).toBe(BUNDLE_INDEX);
    expect(execFileSync('git', ['ls-files', BUNDLE_INDEX], { encoding: 'utf8' })).toBe('');
  });

  it('lists every folder of models/ with a manifest, and is left alone when nothing changed', async () => {
    const ids = await writeBundleIndex();
    const expected = readdirSync(MODELS_DIR).filter((d) => existsSync(join(MODELS_DIR, d, 'manifest.json'))).sort();
    expect(ids).toEqual(expected);
    const text = readFileSync(BUNDLE_INDEX, 'utf8');
    for (const id of expected) expect(text).toContain(`{ dir: '${id}', manifest: manifest${expected.indexOf(id)} }`);
    const mtime = statSync(BUNDLE_INDEX).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await writeBundleIndex();
    expect(statSync(BUNDLE_INDEX).mtimeMs).toBe(mtime);
  });
});
