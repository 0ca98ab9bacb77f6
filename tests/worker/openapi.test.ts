/** The OpenAPI description agrees with what the routes accept, the docs page renders it, and CORS lets browsers in. */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { validateManifest } from '../../shared/manifest.js';

const manifest = bundledManifests.map((b) => validateManifest(b.manifest)).find((m) => m.family === 'dcgan')!;
type Param = { name: string; in: string; required: boolean; schema: { minimum?: number; maximum?: number; default?: number; 'x-max-bytes'?: number } };
type Doc = { openapi: string; paths: Record<string, Record<string, { parameters?: Param[] }>> };

async function doc(): Promise<Doc> {
  const res = await SELF.fetch('http://edge.test/v1/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

describe('GET /v1/openapi.json', () => {
  it('describes every route', async () => {
    const d = await doc();
    expect(d.openapi).toBe('3.1.0');
    expect(Object.keys(d.paths).sort()).toEqual(['/v1/admin/models', '/v1/admin/models/{id}/activate', '/v1/admin/models/{id}/rollback', '/v1/admin/models/{id}/versions', '/v1/admin/models/{id}/versions/{version}', '/v1/models', '/v1/models/{id}', '/v1/models/{id}/encode', '/v1/models/{id}/generate', '/v1/models/{id}/graphs/{file}', '/v1/models/{id}/grid.png', '/v1/models/{id}/interpolate.png', '/v1/models/{id}/latents', '/v1/models/{id}/reconstruct', '/v1/models/{id}/sample.png']);
  });

  it('lists exactly the query parameters each route accepts, with the bounds it enforces', async () => {
    const d = await doc();
    for (const [path, ops] of Object.entries(d.paths)) {
      const query = (ops['get']?.parameters ?? []).filter((p) => p.in === 'query');
      if (!ops['get'] || query.length === 0) continue;
      const url = `http://edge.test${path.replace('{id}', manifest.id)}`;
      // The route's own list of allowed names, from its unknown-parameter error.
      const unknown = (await (await SELF.fetch(`${url}?zz=1`)).json()) as { error: { code: string; allowed: string[] } };
      expect(unknown.error.code).toBe('unknown_parameter');
      expect(unknown.error.allowed, path).toEqual(query.map((p) => p.name));
      const required = Object.fromEntries(query.filter((p) => p.required).map((p) => [p.name, String(p.schema.minimum ?? 1)]));
      for (const p of query) {
        const maxBytes = p.schema['x-max-bytes'];
        if (maxBytes !== undefined) {
          // A seed: any string up to its byte bound (multi-byte characters count as their UTF-8 bytes), not one more.
          const seedAt = (v: string) => SELF.fetch(`${url}?${new URLSearchParams({ ...required, [p.name]: v })}`);
          const ok = await seedAt('é'.repeat(maxBytes / 2));
          expect(ok.status, `${path} ${p.name} of ${maxBytes} bytes`).toBe(200);
          await ok.arrayBuffer();
          const over = await seedAt(`${'é'.repeat(maxBytes / 2)}x`);
          expect(over.status, `${path} ${p.name} of ${maxBytes + 1} bytes`).toBe(400);
          expect(((await over.json()) as { error: { message: string } }).error.message).toContain(`1 to ${maxBytes} UTF-8 bytes`);
        }
        if (p.name === 'class' || p.name === 'cols' || p.schema.maximum === undefined) continue; // bounds tied to the model or to n
        const at = (v: number) => SELF.fetch(`${url}?${new URLSearchParams({ ...required, [p.name]: String(v) })}`);
        const ok = await at(p.schema.maximum);
        expect(ok.status, `${path} ${p.name}=${p.schema.maximum}`).toBe(200);
        await ok.arrayBuffer();
        const over = await at(p.schema.maximum + 1);
        expect(over.status, `${path} ${p.name}=${p.schema.maximum + 1}`).toBe(400);
        expect(((await over.json()) as { error: { message: string } }).error.message).toContain(`[${p.schema.minimum}, ${p.schema.maximum}]`);
        if (p.required) {
          const missing = await SELF.fetch(`${url}?${new URLSearchParams(Object.fromEntries(Object.entries(required).filter(([k]) => k !== p.name)))}`);
          expect(missing.status, `${path} without ${p.name}`).toBe(400);
          await missing.arrayBuffer();
        }
      }
    }
  });

  it('has a docs page that renders it', async () => {
    const res = await SELF.fetch('http://edge.test/v1/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/text\/html/);
    expect(await res.text()).toContain("fetch('openapi.json')");
  });
});

describe('CORS', () => {
  it('lets any origin read public responses, including the seed and version headers', async () => {
    const res = await SELF.fetch(`http://edge.test/v1/models/${manifest.id}/sample.png`, { headers: { Origin: 'https://example.org' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Expose-Headers')).toContain('X-Seed');
    await res.arrayBuffer();
    const preflight = await SELF.fetch(`http://edge.test/v1/models/${manifest.id}/generate`, { method: 'OPTIONS', headers: { Origin: 'https://example.org', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('Access-Control-Allow-Methods')).toContain('POST');
  });
});
