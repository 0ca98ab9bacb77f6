/** Small guards of the edge: rate-limit keys, and an admin API that stays off with a guessable token. */
import { describe, expect, it } from 'vitest';
import { createApp, MIN_ADMIN_TOKEN_LENGTH } from '../../edge/app.js';
import { ModelStore, type ModelBucket } from '../../edge/registry/store.js';
import { clientKey } from '../../edge/http/rate-limit.js';
import { ortNodeRuntime } from '../helpers/ort-node-runtime.js';

describe('rate-limit keys', () => {
  it('IPv4 as it is, IPv6 by its /64 whatever its notation', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:DB8:0:0:1::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:0db8:0007:0001:ffff:ffff:ffff:0009')).toBe('2001:db8:7:1::/64');
    expect(clientKey('2001:db8:7:1::1')).toBe(clientKey('2001:db8:7:1:ffff::9'));
  });
});

describe('admin token', () => {
  it(`a token shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters leaves the admin API off, with a logged reason`, async () => {
    const bucket = { list: async () => ({ objects: [], delimitedPrefixes: [], truncated: false }) } as unknown as ModelBucket;
    const logged: string[] = [];
    const original = console.error;
    console.error = (m: string) => logged.push(m);
    try {
      const app = createApp({ models: [], runtime: ortNodeRuntime, store: new ModelStore(bucket), adminToken: 'a'.repeat(MIN_ADMIN_TOKEN_LENGTH - 1) });
      const res = await app.request('/v1/admin/models', { headers: { Authorization: `Bearer ${'a'.repeat(MIN_ADMIN_TOKEN_LENGTH - 1)}` } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
    } finally {
      console.error = original;
    }
    expect(logged).toContain(`admin API disabled: ADMIN_TOKEN has ${MIN_ADMIN_TOKEN_LENGTH - 1} characters, at least ${MIN_ADMIN_TOKEN_LENGTH} are required (e.g. openssl rand -hex 32)`);
  });
});
