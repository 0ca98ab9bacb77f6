/**
 * The admin API's place in the app and its upload's ordering (issue 26, fixes 4 and 7), in Node on an in-memory R2
 * bucket and the slot runtime: admin responses go through CORS and the rate limiter like every /v1 route; an
 * upload takes the version's lock before it reads what is stored; a stored version's graphs are never overwritten.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../edge/app.js';
import { ModelStore } from '../../edge/registry/store.js';
import { validateManifest } from '../../shared/manifest.js';
import { fakeVersion, SlotRuntime } from '../helpers/slot-runtime.js';
import { MemoryBucket } from '../helpers/memory-bucket.js';
import { loadModelDir } from '../helpers/models-on-disk.js';

const TOKEN = 'admin-test-token-0123456789abcdef-0123';
const base = validateManifest(loadModelDir('models/dcgan-fashion').manifest);
const auth = { Authorization: `Bearer ${TOKEN}` };

/** A limiter that allows `limit` calls per key. */
function countingLimiter(limit: number) {
  const seen = new Map<string, number>();
  return {
    async limit({ key }: { key: string }) {
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return { success: seen.get(key)! <= limit };
    },
  };
}

function form(v: Awaited<ReturnType<typeof fakeVersion>>) {
  const f = new FormData();
  f.set('manifest', JSON.stringify(v.manifest));
  for (const [name, bytes] of v.files) f.set(name, new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
  return f;
}

describe('admin routes after CORS and the rate limiter', () => {
  it('answer with the CORS headers and count against the client rate limit', async () => {
    const app = createApp({ models: [], runtime: new SlotRuntime(), store: new ModelStore(new MemoryBucket().asBucket()), adminToken: TOKEN, corsOrigins: ['https://ops.example'], rateLimit: { limiter: countingLimiter(2), limit: 2, periodSeconds: 60 } });
    const headers = { ...auth, Origin: 'https://ops.example', 'CF-Connecting-IP': '198.51.100.7' };
    const first = await app.request('/v1/admin/models', { headers });
    expect(first.status).toBe(200);
    expect(first.headers.get('Access-Control-Allow-Origin')).toBe('https://ops.example');
    expect((await app.request('/v1/admin/models', { headers })).status).toBe(200);
    const third = await app.request('/v1/admin/models', { headers });
    expect(third.status).toBe(429);
    expect(third.headers.get('Access-Control-Allow-Origin')).toBe('https://ops.example');
  });
});

describe('uploads', () => {
  it('take the version lock before reading what is stored: a re-upload during another upload is a 409, not a 200', async () => {
    const bucket = new MemoryBucket();
    const store = new ModelStore(bucket.asBucket());
    const app = createApp({ models: [], runtime: new SlotRuntime(), store, adminToken: TOKEN });
    const v = await fakeVersion(base, 'm', 'x');
    const url = `/v1/admin/models/m/versions/${v.manifest.version}`;
    expect((await app.request(url, { method: 'PUT', headers: auth, body: form(v) })).status).toBe(201);
    expect(await store.lockVersion('m', v.manifest.version)).toBe(true); // another upload holds the lock
    const during = await app.request(url, { method: 'PUT', headers: auth, body: form(v) });
    expect(during.status).toBe(409);
    expect(((await during.json()) as { error: { message: string } }).error.message).toMatch(/in progress/);
    await store.unlockVersion('m', v.manifest.version);
    expect((await app.request(url, { method: 'PUT', headers: auth, body: form(v) })).status).toBe(200);
  });

  it("putVersion never overwrites a stored version's graphs", async () => {
    const bucket = new MemoryBucket();
    const store = new ModelStore(bucket.asBucket());
    const first = await fakeVersion(base, 'm', 'first');
    const second = await fakeVersion(base, 'm', 'second');
    second.manifest.version = first.manifest.version; // the same name, other bytes (only a bypassed check allows it)
    expect(await store.putVersion(first.manifest, first.files)).toBe(true);
    expect(await store.putVersion(second.manifest, second.files)).toBe(false);
    const graph = await bucket.get(`m/${first.manifest.version}/generator.onnx`);
    expect(new Uint8Array(await graph!.arrayBuffer())).toEqual(first.files.get('generator.onnx'));
  });
});
