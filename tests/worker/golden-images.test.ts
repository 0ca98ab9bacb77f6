/**
 * Golden images: a pinned URL (`{id}@{version}`) is served `immutable` with a strong ETag, so its bytes must never
 * change. This test draws a few pinned PNGs per bundled model inside workerd (sample, grid, interpolate; several
 * seeds, classes and scales) and compares their sha256 with tests/worker/golden-images.json, taken under the
 * RENDER_VERSION recorded there. The bytes may change only together with RENDER_VERSION (edge/http/responses.ts),
 * which changes the ETags and the response cache's keys with them.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { RENDER_VERSION } from '../../edge/http/responses.js';
import { bundledManifests, retiredManifests } from '../../edge/registry/bundled.js';
import { sha256Hex } from '../../shared/hash.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import golden from './golden-images.json';

// The versions serving now and the ones re-exports replaced (trainer/export/retire.ts): a pinned URL of either must
// keep its bytes.
const models = [...bundledManifests, ...retiredManifests].map((b) => validateManifest(b.manifest));

/** The pinned paths drawn for model `m`. */
function paths(m: Manifest): string[] {
  const at = `/v1/models/${m.id}@${m.version}`;
  // A conditional model's sample asks for a class; the others have none.
  const [first, last] = m.classes.count > 0 ? ['&class=0', `&class=${m.classes.count - 1}`] : ['', ''];
  return [
    `${at}/sample.png?seed=1${first}`,
    `${at}/sample.png?seed=alice%40example.com&scale=2${last}`,
    `${at}/grid.png?seed=1&n=16${last}`,
    `${at}/grid.png?seed=4242&n=6&cols=3&scale=3${first}`,
    `${at}/interpolate.png?from=1&to=2&steps=8${first}`,
    `${at}/interpolate.png?from=bob&to=carol&steps=3&scale=2${last}`,
  ];
}

describe('golden images', () => {
  it('every pinned URL answers the bytes it answered when the golden hashes were taken', { timeout: 120_000 }, async () => {
    const now: Record<string, string> = {};
    for (const m of models) {
      for (const path of paths(m)) {
        const res = await SELF.fetch(`http://edge.test${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('Cache-Control'), path).toBe('public, max-age=31536000, immutable');
        now[path] = await sha256Hex(new Uint8Array(await res.arrayBuffer()));
      }
    }
    const regenerate = `If that is intended, replace tests/worker/golden-images.json with:\n${JSON.stringify({ renderVersion: RENDER_VERSION, images: now }, null, 2)}`;
    if (golden.renderVersion !== RENDER_VERSION) {
      expect.fail(`RENDER_VERSION is ${RENDER_VERSION}; the golden hashes were taken under ${golden.renderVersion}. ${regenerate}`);
    }
    const images: Record<string, string> = golden.images;
    const changed = Object.keys(now).filter((p) => p in images && images[p] !== now[p]);
    expect(changed, `These pinned URLs now answer other bytes under the same RENDER_VERSION (${RENDER_VERSION}), so caches would keep the old bytes under the same strong ETag. Bump RENDER_REVISION in edge/http/responses.ts (or find what changed the bytes). A re-exported bundled model has a new version and new URLs: regenerate then. ${regenerate}`).toEqual([]);
    const gone = Object.keys(images).filter((p) => !(p in now));
    expect(gone, `These pinned URLs had golden bytes and are no longer drawn: a re-export must keep the version it replaces (npm run export keeps it in models/ID/retired/VERSION/ unless --replace). ${regenerate}`).toEqual([]);
    expect(Object.keys(now).filter((p) => !(p in images)), `New pinned URLs (a new export): ${regenerate}`).toEqual([]);
  });
});
