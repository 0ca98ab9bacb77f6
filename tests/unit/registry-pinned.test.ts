/**
 * The pinned-version cache (edge/registry/pinned.ts) and the registry's sessions against races found in review: a
 * load whose request was cancelled never settles, and a version deleted or uploaded while it loaded.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { VersionHolds } from '../../edge/registry/holds.js';
import { PinnedVersions } from '../../edge/registry/pinned.js';
import { ModelRegistry, type ServedModel } from '../../edge/registry/registry.js';
import type { InferenceRuntime, InferenceSession } from '../../shared/runtime.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';

const entry = (id: string) => ({ id, holders: new Set(), released: false, sessions: new Map(), bytes: 1000 }) as unknown as ServedModel;

describe('pinned versions', () => {
  it('a load that never settles is given up after the wait, so later requests load again instead of failing forever', async () => {
    let clock = 1000;
    const pinned = new PinnedVersions(new VersionHolds(() => clock, 60_000), () => clock);
    void pinned.get('m@v1', () => new Promise(() => {}), 50); // its request was cancelled: its I/O never settles
    expect(await pinned.get('m@v1', async () => entry('m@v1'), 20)).toBeUndefined(); // within the wait: shares it
    clock += 100;
    const fresh = entry('m@v1');
    expect(await pinned.get('m@v1', async () => fresh, 50)).toBe(fresh);
    expect(pinned.keys()).toEqual(['m@v1']);
  });

  it('a version deleted while it loaded is not cached, its sessions are let go, and the request loads again', async () => {
    const clock = 1000;
    const holds = new VersionHolds(() => clock, 60_000);
    const pinned = new PinnedVersions(holds, () => clock);
    const old = entry('m@v2');
    let finish: (e: ServedModel | null) => void = () => {};
    let calls = 0;
    // What the store has: the version on the first read, nothing after its delete.
    const load = () => (++calls === 1 ? new Promise<ServedModel | null>((resolve) => (finish = resolve)) : Promise.resolve(null));
    const first = pinned.get('m@v2', load, 1000);
    pinned.forget('m@v2'); // deleted while the load ran
    const again = pinned.get('m@v2', load, 1000); // within the wait: shares the first load
    finish(old);
    expect(await first).toBeNull(); // the retry after the stale load found nothing: 404, and remembered as missing
    expect(await again).toBeNull();
    expect(old.released).toBe(true); // nobody held it: released at once (no request in flight)
    expect(holds.pending()).toBe(0);
    expect(pinned.keys()).toEqual([]);
  });

  it('an upload while a miss loaded is not hidden behind the negative cache', async () => {
    const pinned = new PinnedVersions(new VersionHolds(() => 1000, 60_000), () => 1000);
    let finish: (e: ServedModel | null) => void = () => {};
    const uploaded = entry('m@v3');
    let calls = 0;
    const load = () => (++calls === 1 ? new Promise<ServedModel | null>((resolve) => (finish = resolve)) : Promise.resolve(uploaded));
    const first = pinned.get('m@v3', load, 1000);
    pinned.forget('m@v3'); // the upload route forgets the miss
    finish(null); // what the load read before the upload
    expect(await first).toBe(uploaded);
    expect(await pinned.get('m@v3', load, 1000)).toBe(uploaded);
  });
});

describe("a model's session", () => {
  it('a session load that never settles is given up after the wait: the next request opens it anew', async () => {
    const clock = { now: 1000 };
    let calls = 0;
    const session: InferenceSession = { run: async () => ({}) };
    // The first load's request was cancelled: its I/O never settles. The second opens at once.
    const runtime: InferenceRuntime = { name: 'test', createSession: () => (++calls === 1 ? new Promise(() => {}) : Promise.resolve(session)) };
    const model = loadModelDir('models/dcgan-fashion');
    const registry = new ModelRegistry([model], runtime, () => clock.now);
    const entry = await registry.resolve('dcgan-fashion');
    void registry.session(entry);
    // Wait until the graph is read and the first load is under way (a fixed 20 ms was too short on a loaded machine).
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 5000, interval: 5 });
    clock.now += 31_000;
    const opened = await registry.session(entry);
    expect(calls).toBe(2);
    await expect(opened.run({})).resolves.toEqual({});
  });
});

describe("the pinned cache's byte budget", () => {
  it("counts a graph read after the version was cached (a VAE's encoder after its decoder)", async () => {
    const vae = loadModelDir('models/vae-fashion');
    const { id, version } = vae.manifest as { id: string; version: string };
    const size = (file: string) => statSync(join('models/vae-fashion', file)).size;
    // The store has the VAE; the isolate serves another model, so the VAE's pinned URL loads it into the cache.
    const registry = new ModelRegistry([loadModelDir('models/dcgan-fashion')], ortNodeRuntime);
    registry.loadVersion = async (i, v) => (i === id && v === version ? vae : null);
    const entry = await registry.resolve(`${id}@${version}`);
    expect(registry.pinnedVersions()).toEqual([`${id}@${version}`]);
    expect(registry.pinnedGraphBytes()).toBe(size('decoder.onnx'));
    await registry.session(entry, 'encoder'); // an encode request, later
    expect(registry.pinnedGraphBytes()).toBe(size('decoder.onnx') + size('encoder.onnx'));
  });
});
