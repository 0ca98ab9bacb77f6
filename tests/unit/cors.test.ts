/** CORS headers on every public response (errors included), preflights, and an origin allowlist. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { cors } from '../../edge/http/cors.js';
import { HttpError, onError } from '../../edge/api/errors.js';

function app(origins: string[]) {
  const a = new Hono();
  a.onError(onError);
  a.use('*', cors({ origins, methods: ['GET', 'POST'], headers: ['Content-Type'], expose: ['X-Seed', 'ETag'], maxAgeSeconds: 600 }));
  a.get('/ok', (c) => c.text('ok'));
  a.get('/fail', () => {
    throw new HttpError(400, 'invalid_parameter', 'no');
  });
  // Response.redirect's headers are immutable, like those of a fetched or cached response.
  a.get('/immutable', () => Response.redirect('https://example.org/x', 302));
  return a;
}

describe('cors', () => {
  it('lets any origin read responses and the exposed headers, errors and immutable responses included', async () => {
    for (const path of ['/ok', '/fail', '/immutable']) {
      const res = await app(['*']).request(path, { headers: { Origin: 'https://a.example' } });
      expect(res.headers.get('Access-Control-Allow-Origin'), path).toBe('*');
      expect(res.headers.get('Access-Control-Expose-Headers'), path).toBe('X-Seed,ETag');
      expect(res.headers.get('Vary'), path).toBeNull();
    }
    expect((await app(['*']).request('/fail')).status).toBe(400);
    expect((await app(['*']).request('/immutable')).headers.get('Location')).toBe('https://example.org/x');
  });

  it('answers a preflight with 204, the methods, headers and max age', async () => {
    const res = await app(['*']).request('/ok', { method: 'OPTIONS', headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'POST' } });
    expect(res.status).toBe(204);
    const h = (name: string) => res.headers.get(name);
    expect([h('Access-Control-Allow-Origin'), h('Access-Control-Allow-Methods'), h('Access-Control-Allow-Headers'), h('Access-Control-Max-Age')]).toEqual(['*', 'GET,POST', 'Content-Type', '600']);
  });

  it('with an allowlist, names only an allowed origin and varies on Origin', async () => {
    const a = app(['https://a.example', 'https://b.example']);
    const allowed = await a.request('/ok', { headers: { Origin: 'https://b.example' } });
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe('https://b.example');
    expect(allowed.headers.get('Vary')).toBe('Origin');
    const other = await a.request('/ok', { headers: { Origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(other.headers.get('Vary')).toBe('Origin');
    const preflight = await a.request('/ok', { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});
