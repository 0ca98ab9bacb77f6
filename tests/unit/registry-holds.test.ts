/**
 * One owner per loaded version (issue 26): the registry's live slot, warm slot, pinned cache and requests in flight
 * each hold a version, and its sessions are released once, when none does. On the slot runtime
 * (tests/helpers/slot-runtime.ts), which reuses a released session's slot as onnxruntime-web reuses heap addresses,
 * so a released session that runs answers another version's numbers, as it did in the issue.
 */
import { describe, expect, it } from 'vitest';
import { ModelRegistry, type ServedModel } from '../../edge/registry/registry.js';
import type { ModelSource } from '../../edge/registry/source.js';
import { PINNED_MAX_VERSIONS, PINNED_MISS_TTL_MS } from '../../edge/api/limits.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { fakeVersion, SlotRuntime } from '../helpers/slot-runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';

const base = validateManifest(loadModelDir('models/dcgan-fashion').manifest);
const Z = { z: { dtype: 'float32' as const, data: Float32Array.from({ length: 100 }, (_, i) => Math.sin(i)), dims: [1, 100] } };

/** A registry over the slot runtime with an in-memory store of versions of model "m", and a clock. */
async function setup(salts: string[], bundledSalt?: string) {
  const rt = new SlotRuntime();
  const clock = { now: 0 };
  const stored = new Map<string, { manifest: Manifest; files: Map<string, Uint8Array> }>();
  const names: string[] = [];
  for (const salt of salts) {
    const v = await fakeVersion(base, 'm', salt);
    stored.set(v.manifest.version, v);
    names.push(v.manifest.version);
  }
  const source = (v: { manifest: Manifest; files: Map<string, Uint8Array> }): ModelSource => ({ manifest: v.manifest, readFile: async (f) => v.files.get(f)! });
  const bundled = bundledSalt ? await fakeVersion(base, 'm', bundledSalt) : null;
  const registry = new ModelRegistry(bundled ? [source(bundled)] : [], rt, () => clock.now);
  const reads = { count: 0 };
  registry.loadVersion = async (_id, version) => {
    reads.count++;
    const v = stored.get(version);
    return v ? source(v) : null;
  };
  const serve = (version: string) => registry.serve('m', version, source(stored.get(version)!));
  const draw = async (entry: ServedModel) => Array.from((await (await registry.session(entry)).run(Z))['image']!.data.slice(0, 8));
  return { rt, clock, registry, names, serve, draw, reads, bundled, source, stored };
}

describe('one owner per loaded version', () => {
  it('the issue: three activations, two rollbacks and a grace period later, every pinned version still draws its own numbers', async () => {
    const { rt, clock, registry, names, serve, draw } = await setup(['a', 'b', 'c', 'd']);
    const want = new Map<string, number[]>();
    // As the admin API activates: first into the pinned cache, then the sync reuses that entry and promotes it.
    for (const v of names.slice(0, 3)) {
      want.set(v, await draw(await registry.resolve(`m@${v}`)));
      await serve(v);
      clock.now += 1000;
    }
    clock.now += 120_000;
    registry.sweep();
    await registry.resolve(`m@${names[3]}`); // another version loads: a slot is reused
    for (const v of names.slice(0, 3)) expect(await draw(await registry.resolve(`m@${v}`))).toEqual(want.get(v));
    for (const v of [names[1]!, names[0]!]) {
      await serve(v); // rollback
      clock.now += 120_000;
      registry.sweep();
    }
    for (const v of names.slice(0, 3)) expect(await draw(await registry.resolve(`m@${v}`))).toEqual(want.get(v));
    expect(await draw(registry.get('m'))).toEqual(want.get(names[0]!));
    expect(rt.runsAfterRelease).toBe(0);
  });

  it('the pinned cache never takes the warm slot: a rollback target stays loaded however many versions are pinned', async () => {
    const salts = Array.from({ length: PINNED_MAX_VERSIONS + 3 }, (_, i) => `p${i}`);
    const { registry, names, serve, reads } = await setup(['live', 'warm', ...salts]);
    await serve(names[1]!);
    await serve(names[0]!); // names[1] is now warm
    for (const v of names.slice(2)) await registry.resolve(`m@${v}`);
    const before = reads.count;
    await registry.resolve(`m@${names[1]}`);
    expect(reads.count).toBe(before); // no load: still warm
    expect(registry.pinnedVersions()).not.toContain(`m@${names[1]}`);
  });

  it('never evicts a version that is still loading, and releases every evicted one', async () => {
    const salts = Array.from({ length: PINNED_MAX_VERSIONS + 2 }, (_, i) => `q${i}`);
    const { rt, registry, names, source, stored } = await setup(['slow', ...salts]);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const load = registry.loadVersion!;
    registry.loadVersion = async (id, v) => (v === names[0] ? gate.then(() => source(stored.get(v)!)) : load(id, v));
    const slow = registry.resolve(`m@${names[0]}`);
    for (const v of names.slice(1)) await registry.resolve(`m@${v}`);
    open();
    const entry = await slow;
    expect(entry.released).toBe(false);
    expect(registry.pinnedVersions().at(-1)).toBe(`m@${names[0]}`);
    expect(registry.pinnedVersions()).toHaveLength(PINNED_MAX_VERSIONS);
    // Loaded: one session per version; held: the pinned ones; every other one released.
    expect(rt.created).toBe(names.length);
    expect(rt.open()).toBe(PINNED_MAX_VERSIONS);
    for (const key of registry.pinnedVersions()) registry.forget('m', key.slice(2));
    await new Promise((r) => setTimeout(r, 0)); // releases run once the session promises settle
    expect(rt.open()).toBe(0);
  });

  it('a request in flight keeps a dropped version until it finishes; then a released session refuses to run', async () => {
    const salts = Array.from({ length: PINNED_MAX_VERSIONS + 1 }, (_, i) => `r${i}`);
    const { rt, registry, names, draw } = await setup(salts);
    const done = registry.begin();
    const entry = await registry.resolve(`m@${names[0]}`);
    const session = await registry.session(entry);
    const mine = await draw(entry);
    const other = registry.begin(); // a later request does not hold it back
    for (const v of names.slice(1)) await registry.resolve(`m@${v}`); // evicts names[0]
    expect(registry.pinnedVersions()).not.toContain(`m@${names[0]}`);
    expect(await draw(entry)).toEqual(mine);
    other();
    expect(entry.released).toBe(false);
    done();
    expect(entry.released).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    await expect(session.run(Z)).rejects.toMatchObject({ status: 503 });
    await expect(registry.session(entry)).rejects.toMatchObject({ status: 503 });
    expect(rt.runsAfterRelease).toBe(0);
  });

  it('a request that never finishes holds a dropped version only for the grace period', async () => {
    const salts = Array.from({ length: PINNED_MAX_VERSIONS + 1 }, (_, i) => `s${i}`);
    const { clock, registry, names } = await setup(salts);
    registry.begin(); // never finished
    const entry = await registry.resolve(`m@${names[0]}`);
    for (const v of names.slice(1)) await registry.resolve(`m@${v}`);
    registry.sweep();
    expect(entry.released).toBe(false);
    clock.now += 60_000;
    registry.sweep();
    expect(entry.released).toBe(true);
  });
});

describe('versions are content', () => {
  it('a registry version named like the bundled one, with other graphs, is refused; the pinned URL keeps the bundled bytes', async () => {
    const { registry, bundled, source, draw } = await setup([], 'bundled');
    const impostor = await fakeVersion(base, 'm', 'other');
    impostor.manifest.version = bundled!.manifest.version;
    const before = await draw(await registry.resolve(`m@${bundled!.manifest.version}`));
    await expect(registry.serve('m', bundled!.manifest.version, source(impostor))).rejects.toThrow(/bundled model's name, with other graphs/);
    const pinned = await registry.resolve(`m@${bundled!.manifest.version}`);
    expect(pinned.origin).toBe('bundled');
    expect(await draw(pinned)).toEqual(before);
  });
});

describe('unknown versions', () => {
  it('are read from the store once per PINNED_MISS_TTL_MS, and at once after an upload through this isolate', async () => {
    const { clock, registry, reads } = await setup(['x']);
    for (let i = 0; i < 3; i++) await expect(registry.resolve('m@0123456789ab')).rejects.toMatchObject({ status: 404 });
    expect(reads.count).toBe(1);
    clock.now += PINNED_MISS_TTL_MS + 1;
    await expect(registry.resolve('m@0123456789ab')).rejects.toMatchObject({ status: 404 });
    expect(reads.count).toBe(2);
    registry.forget('m', '0123456789ab');
    await expect(registry.resolve('m@0123456789ab')).rejects.toMatchObject({ status: 404 });
    expect(reads.count).toBe(3);
  });
});
