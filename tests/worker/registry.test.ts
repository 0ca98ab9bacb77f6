/**
 * The R2 model registry and its admin API inside workerd, on miniflare's local R2: upload + activate + serve, a
 * bad upload (422, nothing stored, the old version keeps serving), tokens, rollback, delete, readers during an
 * activation, and an activation made elsewhere picked up by the sync. Versions are content (shared/content-version.ts):
 * a test names its versions by tags ('v1', 'good'), each a bundled graph with the tag in its ONNX doc_string (other
 * bytes, the same outputs), uploaded under its content version; V(id, tag) is that version.
 */
import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { imageGraphRole, validateManifest, type Manifest } from '../../shared/manifest.js';
import { encodePng } from '../../shared/png.js';
import { sha256Hex } from '../../shared/hash.js';
import { contentVersion } from '../../shared/content-version.js';

const bundled = bundledManifests.map((b) => validateManifest(b.manifest));
const dcgan = bundled.find((m) => m.family === 'dcgan')!;
const gan = bundled.find((m) => m.family === 'gan')!;
const vae = bundled.find((m) => m.family === 'vae' && m.latent.size > 2)!;
const origin = 'http://edge.test';
const auth = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };

let counter = 0;
/** A model id no other test uses. */
const freshId = () => `reg-test-${Date.now().toString(36)}-${counter++}`;

async function graphOf(m: Manifest, role = 'generator'): Promise<Uint8Array> {
  const res = await SELF.fetch(`${origin}/v1/models/${m.id}/graphs/${role}.onnx`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

/** Tag -> content version, per model id. */
const tags = new Map<string, Map<string, string>>();
/** The content version tagged `tag` for model `id` (the tag itself if there is none: a name that is not a version). */
const V = (id: string, tag: string) => tags.get(id)?.get(tag) ?? tag;

/** `graph` with `tag` as its ONNX doc_string (ModelProto field 6, appended: the last one wins): other bytes, same outputs. */
function tagged(graph: Uint8Array, tag: string): Uint8Array {
  const text = new TextEncoder().encode(`registry test version ${tag}`);
  return new Uint8Array([...graph, 0x32, text.length, ...text]);
}

/**
 * A bundled model's manifest and graphs as model `id`, tagged `tag`, with optional changes (to its image graph),
 * named by its content: V(id, tag) then names it.
 */
async function versionFrom(src: Manifest, id: string, tag: string, change?: (m: Manifest, graph: Uint8Array) => Promise<void> | void) {
  const manifest = structuredClone(src);
  manifest.id = id;
  const files: Record<string, Uint8Array> = {};
  for (const [role, spec] of Object.entries(manifest.graphs) as [string, Manifest['graphs']['generator'] & {}][]) {
    files[spec.file] = tagged(await graphOf(src, role), tag);
    spec.sha256 = await sha256Hex(files[spec.file]!);
  }
  manifest.version = await contentVersion(manifest.graphs);
  const named = manifest.version;
  await change?.(manifest, files[manifest.graphs[imageGraphRole(manifest.family)]!.file]!);
  // Named by its content after the change too, unless the change is to the name.
  if (manifest.version === named) manifest.version = await contentVersion(manifest.graphs);
  if (!tags.has(id)) tags.set(id, new Map());
  tags.get(id)!.set(tag, manifest.version);
  return { manifest, files };
}

/** Uploads `v` under the version of the URL: its tag's content version. */
function upload(id: string, tag: string, v: { manifest: unknown; files: Record<string, Uint8Array> }, headers: Record<string, string> = auth) {
  const version = V(id, tag);
  const form = new FormData();
  form.set('manifest', new Blob([JSON.stringify(v.manifest)], { type: 'application/json' }), 'manifest.json');
  for (const [name, bytes] of Object.entries(v.files)) form.set(name, new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
  return SELF.fetch(`${origin}/v1/admin/models/${id}/versions/${version}`, { method: 'PUT', headers, body: form });
}

const activate = (id: string, tag: string, headers: Record<string, string> = auth) =>
  SELF.fetch(`${origin}/v1/admin/models/${id}/activate`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ version: V(id, tag) }) });
const rollback = (id: string) => SELF.fetch(`${origin}/v1/admin/models/${id}/rollback`, { method: 'POST', headers: auth });
const versions = async (id: string) => (await (await SELF.fetch(`${origin}/v1/admin/models/${id}/versions`, { headers: auth })).json()) as { active: string | null; history: (string | null)[]; versions: { version: string }[] };

async function sample(id: string, seed: number): Promise<{ version: string | null; bytes: Uint8Array }> {
  const res = await SELF.fetch(`${origin}/v1/models/${id}/sample.png?seed=${seed}`);
  expect(res.status).toBe(200);
  return { version: res.headers.get('X-Model-Version'), bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function errorOf(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  return body.error.message;
}

async function r2Keys(prefix: string): Promise<string[]> {
  return (await env.MODELS!.list({ prefix })).objects.map((o) => o.key).sort();
}

describe('admin API: tokens', () => {
  it('refuses a client after 10 failed authentications in 5 minutes, even with the right token', async () => {
    const from = (token: string) => ({ Authorization: `Bearer ${token}`, 'CF-Connecting-IP': '192.0.2.200' });
    for (let i = 0; i < 10; i++) await errorOf(await SELF.fetch(`${origin}/v1/admin/models`, { headers: from(`guess-${i}`) }), 401, 'unauthorized');
    const refused = await SELF.fetch(`${origin}/v1/admin/models`, { headers: from(env.ADMIN_TOKEN!) });
    expect(await errorOf(refused, 429, 'rate_limited')).toMatch(/failed authentications/);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Another client is unaffected.
    expect((await SELF.fetch(`${origin}/v1/admin/models`, { headers: { ...from(env.ADMIN_TOKEN!), 'CF-Connecting-IP': '192.0.2.201' } })).status).toBe(200);
  });

  it('answers 401 without the token or with a wrong one, and changes nothing', async () => {
    const id = freshId();
    const v = await versionFrom(dcgan, id, 'v1');
    await errorOf(await upload(id, 'v1', v, {}), 401, 'unauthorized');
    const wrong = await upload(id, 'v1', v, { Authorization: `Bearer ${env.ADMIN_TOKEN}x` });
    expect(wrong.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    expect(await errorOf(wrong, 401, 'unauthorized')).toMatch(/wrong admin token/);
    await errorOf(await activate(id, 'v1', { Authorization: 'Basic abc' }), 401, 'unauthorized');
    await errorOf(await SELF.fetch(`${origin}/v1/admin/models`), 401, 'unauthorized');
    expect(await r2Keys(`${id}/`)).toEqual([]);
    await errorOf(await SELF.fetch(`${origin}/v1/models/${id}/sample.png?seed=1`), 404, 'not_found');
  });
});

describe('admin API: upload, activate, serve', () => {
  it('stores a checked version, serves it once activated, and says which version served', async () => {
    const id = freshId();
    const up = await upload(id, 'v1', await versionFrom(dcgan, id, 'v1'));
    expect(up.status).toBe(201);
    const stored = (await up.json()) as { stored: boolean; smoke: { role: string; batches: number[]; outputs: Record<string, number[]> }[] };
    expect(stored.stored).toBe(true);
    // Smoke-tested at batch 1, 2 and the largest grid the routes serve (64 images of 28x28).
    expect(stored.smoke[0]!.batches).toEqual([1, 2, 64]);
    expect(stored.smoke[0]!.outputs['image']).toEqual([64, 1, 28, 28]);
    expect(await r2Keys(`${id}/`)).toEqual([`${id}/${V(id, 'v1')}/generator.onnx`, `${id}/${V(id, 'v1')}/manifest.json`]);
    // Stored is not served: nothing is active yet.
    await errorOf(await SELF.fetch(`${origin}/v1/models/${id}/sample.png?seed=1`), 404, 'not_found');

    const act = await activate(id, 'v1');
    expect(act.status).toBe(200);
    expect(await act.json()).toMatchObject({ id, active: V(id, 'v1'), previous: null, serving: { version: V(id, 'v1'), origin: 'registry' } });
    const served = await sample(id, 7);
    expect(served.version).toBe(V(id, 'v1'));
    // The same graph as the bundled DCGAN: the same image for the same seed.
    expect(served.bytes).toEqual((await sample(dcgan.id, 7)).bytes);
    const listed = (await (await SELF.fetch(`${origin}/v1/models`)).json()) as { models: { id: string; version: string }[] };
    expect(listed.models.find((m) => m.id === id)?.version).toBe(V(id, 'v1'));

    // A second version takes over; seeded responses change with it (their cache keys hold the version).
    expect((await upload(id, 'v2', await versionFrom(gan, id, 'v2'))).status).toBe(201);
    expect((await activate(id, 'v2')).status).toBe(200);
    const next = await sample(id, 7);
    expect(next.version).toBe(V(id, 'v2'));
    expect(next.bytes).toEqual((await sample(gan.id, 7)).bytes);
    expect(next.bytes).not.toEqual(served.bytes);
    const latents = await SELF.fetch(`${origin}/v1/models/${id}/latents?seed=1`);
    expect(latents.headers.get('X-Model-Version')).toBe(V(id, 'v2'));
    const model = await SELF.fetch(`${origin}/v1/models/${id}`);
    expect(model.headers.get('X-Model-Version')).toBe(V(id, 'v2'));
    expect(await model.json()).toMatchObject({ id, version: V(id, 'v2'), family: 'gan' });
    expect(await versions(id)).toMatchObject({ active: V(id, 'v2'), history: [V(id, 'v1')], versions: [{ version: V(id, 'v1') }, { version: V(id, 'v2') }] });
  });

  it('checks and serves a VAE version: both graphs smoke-tested, encode answered by the new version', async () => {
    const id = freshId();
    const up = await upload(id, 'v1', await versionFrom(vae, id, 'v1'));
    expect(up.status).toBe(201);
    const { smoke } = (await up.json()) as { smoke: { role: string; outputs: Record<string, number[]> }[] };
    expect(Object.fromEntries(smoke.map((s) => [s.role, s.outputs]))).toEqual({
      decoder: { image: [64, 1, 28, 28] },
      encoder: { mean: [2, vae.latent.size], logvar: [2, vae.latent.size] },
    });
    expect((await activate(id, 'v1')).status).toBe(200);
    const png = encodePng({ width: 28, height: 28, channels: 1, data: new Uint8Array(784).fill(90) });
    const res = await SELF.fetch(`${origin}/v1/models/${id}/encode`, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png });
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Model-Version')).toBe(V(id, 'v1'));
    expect(((await res.json()) as { mean: number[] }).mean).toHaveLength(vae.latent.size);
  });

  it('is idempotent for the same graphs and refuses other graphs under a stored version', async () => {
    const id = freshId();
    const v = await versionFrom(dcgan, id, 'v1');
    expect((await upload(id, 'v1', v)).status).toBe(201);
    const again = await upload(id, 'v1', v);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ stored: false, unchanged: true });
    // A re-export (same graphs, new createdAt) is a no-op too; other graphs under a stored version are refused.
    const reexport = await versionFrom(dcgan, id, 'v1', (m) => void (m.createdAt = new Date().toISOString()));
    expect(await (await upload(id, 'v1', reexport)).json()).toMatchObject({ stored: false, unchanged: true, manifestDiffers: true });
    // Other graphs under a stored version's name: refused before anything else, as the name is not their content.
    const other = await versionFrom(gan, id, 'other', (m) => void (m.version = V(id, 'v1')));
    expect(await errorOf(await upload(id, 'v1', other), 422, 'invalid_model')).toMatch(/is not the content of its graphs: these graphs are version "[0-9a-f]{12}"/);
  });
});

describe('admin API: bad uploads are refused whole, and the old version keeps serving', () => {
  const cases: [string, (m: Manifest, graph: Uint8Array) => Promise<void> | void, RegExp][] = [
    ['a graph that does not match its sha256', (_m, g) => void (g[g.length - 1]! ^= 0xff), /sha256/],
    ['a corrupt graph whose sha256 was updated to match', async (m, g) => {
      g.fill(7, 0, 64);
      m.graphs.generator!.sha256 = await sha256Hex(g);
    }, /does not open/],
    ['a graph whose output shape differs from the manifest', (m) => void (m.graphs.generator!.outputs[0]!.shape = ['batch', 1, 32, 32]), /shape/],
    ['an invalid manifest', (m) => void ((m as unknown as Record<string, unknown>)['family'] = 'diffusion'), /family/],
    ['a manifest naming another model id', (m) => void (m.id = 'someone-else'), /URL names model/],
    ['a manifest whose tensor names are not the graph\'s', (m) => void (m.graphs.generator!.outputs[0]!.name = 'pixels'), /the graph's outputs are \[image\], the manifest declares \[pixels\]/],
    ['a manifest declaring a 4096x4096 image', (m) => void ((m.image.width = 4096), (m.image.height = 4096)), /at most 3145728 values per image/],
  ];
  for (const [what, change, reason] of cases) {
    it(`422 for ${what}`, async () => {
      const id = freshId();
      expect((await upload(id, 'good', await versionFrom(dcgan, id, 'good'))).status).toBe(201);
      expect((await activate(id, 'good')).status).toBe(200);
      const before = await sample(id, 3);
      const res = await upload(id, 'bad', await versionFrom(dcgan, id, 'bad', change));
      expect(await errorOf(res, 422, 'invalid_model')).toMatch(reason);
      expect(await r2Keys(`${id}/${V(id, 'bad')}/`)).toEqual([]);
      await errorOf(await activate(id, 'bad'), 404, 'not_found');
      expect(await sample(id, 3)).toEqual(before);
    });
  }

  it('422 for a missing graph part and 400 for a body that is not multipart', async () => {
    const id = freshId();
    const v = await versionFrom(dcgan, id, 'v1');
    expect(await errorOf(await upload(id, 'v1', { manifest: v.manifest, files: {} }), 422, 'invalid_model')).toMatch(/missing graph file generator.onnx/);
    const json = await SELF.fetch(`${origin}/v1/admin/models/${id}/versions/v1`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{}' });
    await errorOf(json, 415, 'unsupported_media_type');
    await errorOf(await SELF.fetch(`${origin}/v1/admin/models/${id}/versions/..`, { method: 'PUT', headers: auth }), 404, 'not_found');
    await errorOf(await activate(id, '../x'), 400, 'invalid_body'); // a body field, as generate's
  });
});

describe('admin API: rollback and delete', () => {
  it('rolls back to the previous active version, then has nothing earlier', async () => {
    const id = freshId();
    for (const [v, src] of [['v1', dcgan], ['v2', gan]] as const) {
      expect((await upload(id, v, await versionFrom(src, id, v))).status).toBe(201);
      expect((await activate(id, v)).status).toBe(200);
    }
    const back = await rollback(id);
    expect(await back.json()).toMatchObject({ active: V(id, 'v1'), previous: V(id, 'v2'), serving: { version: V(id, 'v1') } });
    expect((await sample(id, 5)).version).toBe(V(id, 'v1'));
    expect(await errorOf(await rollback(id), 409, 'conflict')).toMatch(/no earlier version/);
  });

  it('overrides a bundled model and rolls back to it', async () => {
    const id = gan.id;
    try {
      expect((await upload(id, 'override', await versionFrom(dcgan, id, 'override'))).status).toBe(201);
      expect((await activate(id, 'override')).status).toBe(200);
      expect((await sample(id, 2)).bytes).toEqual((await sample(dcgan.id, 2)).bytes);
      expect(await (await rollback(id)).json()).toMatchObject({ active: null, previous: V(id, 'override'), serving: { version: gan.version, origin: 'bundled' } });
      expect((await sample(id, 2)).version).toBe(gan.version);
    } finally {
      await env.MODELS!.delete(`${id}/active.json`);
    }
  });

  it('deletes a version that is not active, and refuses to delete the active one', async () => {
    const id = freshId();
    for (const v of ['v1', 'v2']) expect((await upload(id, v, await versionFrom(dcgan, id, v))).status).toBe(201);
    expect((await activate(id, 'v1')).status).toBe(200);
    expect((await activate(id, 'v2')).status).toBe(200);
    const del = (v: string) => SELF.fetch(`${origin}/v1/admin/models/${id}/versions/${v}`, { method: 'DELETE', headers: auth });
    expect(await errorOf(await del(V(id, 'v2')), 409, 'conflict')).toMatch(/is active/);
    expect((await del(V(id, 'v1'))).status).toBe(200);
    expect(await r2Keys(`${id}/${V(id, 'v1')}/`)).toEqual([]);
    expect(await versions(id)).toMatchObject({ active: V(id, 'v2'), history: [], versions: [{ version: V(id, 'v2') }] });
    await errorOf(await del(V(id, 'v1')), 404, 'not_found');
    await errorOf(await rollback(id), 409, 'conflict');
  });
});

describe('serving during and after an activation', () => {
  it('readers during an activation all get 200 from the old or the new version, never a mix', async () => {
    const id = freshId();
    for (const [v, src] of [['v1', dcgan], ['v2', gan]] as const) expect((await upload(id, v, await versionFrom(src, id, v))).status).toBe(201);
    expect((await activate(id, 'v1')).status).toBe(200);
    const seeds = Array.from({ length: 48 }, (_, i) => 100 + i);
    const reads = seeds.map((s, i) => new Promise((r) => setTimeout(r, i)).then(() => sample(id, s)));
    const switched = activate(id, 'v2');
    const results = await Promise.all(reads);
    expect((await switched).status).toBe(200);
    const reference = { [V(id, 'v1')]: dcgan.id, [V(id, 'v2')]: gan.id } as Record<string, string>;
    for (const [i, r] of results.entries()) {
      expect([V(id, 'v1'), V(id, 'v2')]).toContain(r.version);
      expect(r.bytes).toEqual((await sample(reference[r.version!]!, seeds[i]!)).bytes);
    }
    expect((await sample(id, 1)).version).toBe(V(id, 'v2'));
  });

  it('follows an activation made by another isolate within the sync interval', async () => {
    const id = freshId();
    for (const [v, src] of [['v1', dcgan], ['v2', gan]] as const) expect((await upload(id, v, await versionFrom(src, id, v))).status).toBe(201);
    expect((await activate(id, 'v1')).status).toBe(200);
    // What another isolate's admin request would write: only the pointer, not through this isolate.
    await env.MODELS!.put(`${id}/active.json`, JSON.stringify({ active: V(id, 'v2'), history: [V(id, 'v1')], updatedAt: new Date().toISOString() }));
    const t0 = Date.now();
    let version = (await sample(id, 9)).version;
    while (version !== V(id, 'v2') && Date.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      version = (await sample(id, 9)).version;
    }
    expect(version).toBe(V(id, 'v2'));
    // MODEL_SYNC_SECONDS is 1 in the test config: picked up within the interval plus a model load.
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

describe('admin API: races and reuse', () => {
  it('two racing uploads of one version: one stores it whole, the other finds it stored or in progress', async () => {
    const id = freshId();
    const v = await versionFrom(dcgan, id, 'v1');
    const reexport = await versionFrom(dcgan, id, 'v1', (m) => void (m.createdAt = new Date(0).toISOString()));
    const [a, b] = await Promise.all([upload(id, 'v1', v), upload(id, 'v1', reexport)]);
    const other = a.status === 201 ? b.status : a.status;
    expect([a.status, b.status]).toContain(201);
    expect([200, 409]).toContain(other); // stored already (unchanged), or its upload still in progress
    const stored = (await (await env.MODELS!.get(`${id}/${V(id, 'v1')}/manifest.json`))!.json()) as Manifest;
    expect(stored.createdAt).toBe(a.status === 201 ? v.manifest.createdAt : reexport.manifest.createdAt);
    for (const spec of Object.values(stored.graphs)) {
      const bytes = new Uint8Array(await (await env.MODELS!.get(`${id}/${V(id, 'v1')}/${spec.file}`))!.arrayBuffer());
      expect(await sha256Hex(bytes)).toBe(spec.sha256);
    }
    expect(await r2Keys(`${id}/${V(id, 'v1')}/`)).toEqual([`${id}/${V(id, 'v1')}/manifest.json`, `${id}/${V(id, 'v1')}/${stored.graphs.generator!.file}`].sort());
  });

  it('a deleted version name is never reused for an upload, and cannot be activated', async () => {
    const id = freshId();
    expect((await upload(id, 'v1', await versionFrom(dcgan, id, 'v1'))).status).toBe(201);
    expect((await upload(id, 'v2', await versionFrom(dcgan, id, 'v2'))).status).toBe(201);
    expect((await activate(id, 'v1')).status).toBe(200);
    expect((await SELF.fetch(`${origin}/v1/admin/models/${id}/versions/${V(id, 'v2')}`, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect(await errorOf(await upload(id, 'v2', await versionFrom(dcgan, id, 'v2')), 409, 'conflict')).toMatch(/was deleted, and version names are never reused/);
    expect(await errorOf(await activate(id, 'v2'), 404, 'not_found')).toMatch(/was deleted/);
  });

  it('delete and activate racing never leave the pointer on a deleted version', async () => {
    for (let round = 0; round < 4; round++) {
      const id = freshId();
      expect((await upload(id, 'keep', await versionFrom(dcgan, id, 'keep'))).status).toBe(201);
      expect((await upload(id, 'gone', await versionFrom(dcgan, id, 'gone'))).status).toBe(201);
      expect((await activate(id, 'keep')).status).toBe(200);
      const [del, act] = await Promise.all([SELF.fetch(`${origin}/v1/admin/models/${id}/versions/${V(id, 'gone')}`, { method: 'DELETE', headers: auth }), activate(id, 'gone')]);
      const after = await versions(id);
      // Either the delete won (the activation is refused) or the activation did (the delete is refused: active).
      if (del.status === 200) {
        expect(act.status).not.toBe(200);
        expect(after.active).toBe(V(id, 'keep'));
        expect(after.versions.map((v) => v.version)).toEqual([V(id, 'keep')]);
      } else {
        expect([del.status, act.status]).toEqual([409, 200]);
        expect(after.active).toBe(V(id, 'gone'));
        expect(after.versions.map((v) => v.version).sort()).toEqual([V(id, 'gone'), V(id, 'keep')]);
      }
    }
  });
});

describe('admin API: activation', () => {
  it('refuses (422) to activate a stored version that cannot load, and leaves the active one serving', async () => {
    const id = freshId();
    expect((await upload(id, 'good', await versionFrom(dcgan, id, 'good'))).status).toBe(201);
    expect((await upload(id, 'rotten', await versionFrom(dcgan, id, 'rotten'))).status).toBe(201);
    expect((await activate(id, 'good')).status).toBe(200);
    // The stored graph rots after its checks (a bad copy into R2 by hand): its sha256 no longer matches.
    await env.MODELS!.put(`${id}/${V(id, 'rotten')}/${dcgan.graphs.generator!.file}`, new Uint8Array(100));
    expect(await errorOf(await activate(id, 'rotten'), 422, 'invalid_model')).toMatch(/cannot load; the active version is unchanged/);
    expect((await versions(id)).active).toBe(V(id, 'good'));
    expect((await sample(id, 4)).version).toBe(V(id, 'good'));
  });
});

describe('caching across activation and rollback', () => {
  const pinnedUrl = (id: string, version: string, seed: number) => `${origin}/v1/models/${id}@${version}/sample.png?seed=${seed}`;
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await SELF.fetch(url, { headers });
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  };

  it('unversioned URLs follow the active version within a minute; pinned URLs stay byte-identical; no layer serves a stale version', async () => {
    const id = freshId();
    expect((await upload(id, 'v1', await versionFrom(dcgan, id, 'v1'))).status).toBe(201);
    expect((await upload(id, 'v2', await versionFrom(gan, id, 'v2'))).status).toBe(201);
    expect((await activate(id, 'v1')).status).toBe(200);

    const first = await get(`${origin}/v1/models/${id}/sample.png?seed=3`);
    expect(first.res.headers.get('X-Model-Version')).toBe(V(id, 'v1'));
    expect(first.res.headers.get('Cache-Control')).toBe('public, max-age=60, stale-while-revalidate=600');
    const etagV1 = first.res.headers.get('ETag')!;
    expect(etagV1).toContain(`-${V(id, 'v1')}-`);
    const pinnedV1 = await get(pinnedUrl(id, V(id, 'v1'), 3));
    expect(pinnedV1.res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(pinnedV1.bytes).toEqual(first.bytes);
    // A repeat comes from the response cache, with the Cache-Control of the URL asked for.
    const again = await get(`${origin}/v1/models/${id}/sample.png?seed=3`);
    expect(again.res.headers.get('Server-Timing')).toContain('hit');
    expect(again.res.headers.get('Cache-Control')).toBe('public, max-age=60, stale-while-revalidate=600');

    expect((await activate(id, 'v2')).status).toBe(200);
    const second = await get(`${origin}/v1/models/${id}/sample.png?seed=3`, { 'If-None-Match': etagV1 });
    expect(second.res.status).toBe(200); // v1's ETag no longer matches
    expect(second.res.headers.get('X-Model-Version')).toBe(V(id, 'v2'));
    expect(second.bytes).not.toEqual(first.bytes);
    expect((await get(pinnedUrl(id, V(id, 'v1'), 3))).bytes).toEqual(first.bytes);
    const pinnedV2 = await get(pinnedUrl(id, V(id, 'v2'), 3));
    expect(pinnedV2.bytes).toEqual(second.bytes);

    expect((await rollback(id)).status).toBe(200);
    const back = await get(`${origin}/v1/models/${id}/sample.png?seed=3`);
    expect(back.res.headers.get('X-Model-Version')).toBe(V(id, 'v1'));
    expect(back.bytes).toEqual(first.bytes);
    expect((await get(pinnedUrl(id, V(id, 'v2'), 3))).bytes).toEqual(second.bytes);
    // 304 for the version that serves, with the short lifetime.
    const revalidated = await SELF.fetch(`${origin}/v1/models/${id}/sample.png?seed=3`, { headers: { 'If-None-Match': etagV1 } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('Cache-Control')).toBe('public, max-age=60, stale-while-revalidate=600');
  });

  it('a pinned URL of a version that does not exist is a 404 naming the version serving', async () => {
    const missing = await SELF.fetch(`${origin}/v1/models/${dcgan.id}@nope/sample.png?seed=1`);
    expect(await errorOf(missing, 404, 'not_found')).toBe(`model "${dcgan.id}" has no version "nope"; it serves version ${dcgan.version}`);
    const bundledPinned = await SELF.fetch(`${origin}/v1/models/${dcgan.id}@${dcgan.version}/grid.png?seed=1&n=4`);
    expect(bundledPinned.status).toBe(200);
    expect(bundledPinned.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
  });
});

describe('aborted requests', () => {
  it('a client that aborts while a version loads does not stall the next requests for it', async () => {
    const id = freshId();
    expect((await upload(id, 'v1', await versionFrom(dcgan, id, 'v1'))).status).toBe(201);
    expect((await activate(id, 'v1')).status).toBe(200);
    expect((await upload(id, 'v2', await versionFrom(gan, id, 'v2'))).status).toBe(201);
    // v2 is not loaded anywhere: the first request for its pinned URL starts the load (R2 reads, session), and aborts.
    const url = `${origin}/v1/models/${id}@${V(id, 'v2')}/sample.png?seed=1`;
    const controller = new AbortController();
    const first = SELF.fetch(url, { signal: controller.signal }).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await first;
    const started = Date.now();
    const [a, b] = await Promise.all([SELF.fetch(url), SELF.fetch(`${origin}/v1/models/${id}/sample.png?seed=2`)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.headers.get('X-Model-Version')).toBe(V(id, 'v2'));
    expect(Date.now() - started).toBeLessThan(10_000);
    await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  });
});
