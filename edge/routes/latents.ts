/**
 * GET latents (the latents a seed maps to) and POST generate (decoder-only generation from given latents): with
 * both, a client can do the DCGAN paper's latent arithmetic on seeds it liked.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { defaultColumns } from '../../shared/grid.js';
import { latentsForSeed } from '../../shared/latent.js';
import type { Manifest } from '../../shared/manifest.js';
import { jsonBody } from '../http/body.js';
import { HttpError } from '../api/errors.js';
import { latentsToImages } from '../inference/generate.js';
import type { ModelRegistry } from '../registry/registry.js';
import { seedOf } from '../http/params.js';
import { notModified, seededHeaders, uncachedPng } from '../http/responses.js';
import { errorResponses, GenerateJsonResponse, GenerateRequest, LatentsQuery, LatentsResponse, ModelParams, PngQuery, pngContent } from '../api/schemas.js';
import { rejectInvalid } from '../http/validation.js';
import { keyWhat, renderGrid, scaleWithin } from './render.js';
import { maxImages } from '../api/limits.js';
import { chargeImages } from '../http/rate-limit.js';

const bad = (message: string, allowed?: unknown) => new HttpError(400, 'invalid_body', message, allowed);

/** The generate body (valid by GenerateRequest) against the model: image count, latent size, classes, columns. */
export function checkGenerateBody(b: { latents: number[][]; classes?: number[] | undefined; cols?: number | undefined }, m: Manifest) {
  const size = m.latent.size;
  const max = maxImages(m);
  if (b.latents.length > max) throw bad(`"latents" must be an array of 1 to ${max} latent vectors`, { min: 1, max });
  const n = b.latents.length;
  const latents = new Float32Array(n * size);
  b.latents.forEach((row, i) => {
    if (row.length !== size) throw bad(`"latents[${i}]" must be an array of ${size} numbers (the model's latent size)`, { length: size });
    latents.set(row, i * size);
  });
  const k = m.classes.count;
  if (b.classes !== undefined) {
    if (k === 0) throw bad(`model "${m.id}" is unconditional: "classes" is not accepted`);
    if (b.classes.length !== n || !b.classes.every((x) => x < k)) throw bad(`"classes" must be ${n} integers in [0, ${k - 1}], one per latent`, { min: 0, max: k - 1, labels: m.classes.labels });
  } else if (k > 0) {
    throw bad(`model "${m.id}" is conditional: "classes" is required, ${n} integers in [0, ${k - 1}]`, { labels: m.classes.labels });
  }
  const cols = b.cols ?? defaultColumns(n);
  if (cols > n) throw bad(`"cols" must be an integer in [1, ${n}]`, { min: 1, max: n });
  return { latents, n, classes: b.classes, cols };
}

const latentsRoute = createRoute({
  method: 'get',
  path: '/{id}/latents',
  summary: 'The latents a seed maps to',
  request: { params: ModelParams, query: LatentsQuery },
  responses: { 200: { description: 'Latents', content: { 'application/json': { schema: LatentsResponse } } }, 304: { description: 'Not modified: If-None-Match holds the ETag' }, ...errorResponses },
});

const generateRoute = createRoute({
  method: 'post',
  path: '/{id}/generate',
  summary: 'Images from given latents (e.g. latent arithmetic)',
  middleware: jsonBody,
  request: { params: ModelParams, query: PngQuery, body: { required: true, content: { 'application/json': { schema: GenerateRequest } } } },
  responses: {
    200: { description: 'A PNG grid (format png, the default) or the images as base64 uint8 pixels (format json)', content: { ...pngContent, 'application/json': { schema: GenerateJsonResponse } } },
    ...errorResponses,
  },
});

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function latentRoutes(registry: ModelRegistry) {
  return new OpenAPIHono()
    .openapi(latentsRoute, async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const { manifest: m } = await registry.resolve(id);
      const { seed, given } = await seedOf(q.seed);
      const n = q.n;
      const key = { version: m.version, pinned: id.includes('@'), what: keyWhat('latents', { seed, n }) };
      if (notModified(c, key, given)) return c.body(null, 304, seededHeaders(key, seed, given));
      const flat = latentsForSeed(seed, n, m.latent.size, m.latent.distribution);
      const latents = Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * m.latent.size, (i + 1) * m.latent.size)));
      return c.json({ seed, n, size: m.latent.size, distribution: m.latent.distribution, latents }, 200, seededHeaders(key, seed, given));
    }, rejectInvalid(LatentsQuery))
    .openapi(generateRoute, async (c) => {
      const { id } = c.req.valid('param');
      const entry = await registry.resolve(id);
      const m = entry.manifest;
      const body = c.req.valid('json');
      const req = checkGenerateBody(body, m);
      await chargeImages(c, req.n);
      const scale = scaleWithin(c.req.valid('query').scale, req.cols * m.image.width, Math.ceil(req.n / req.cols) * m.image.height);
      if (body.format === 'png') return uncachedPng(await renderGrid(registry, entry, req.latents, req.n, req.cols, req.classes, scale), m.version);
      if (scale !== 1) throw new HttpError(400, 'invalid_parameter', '"scale" applies to PNG output, not to format "json"');
      const pixels = await latentsToImages(m, await registry.session(entry), req.latents, req.n, req.classes);
      const { width, height, channels } = m.image;
      const per = width * height * channels;
      const images = Array.from({ length: req.n }, (_, i) => ({ width, height, channels, data: base64(pixels.subarray(i * per, (i + 1) * per)) }));
      return c.json({ model: m.id, version: m.version, encoding: 'base64 of uint8 pixels, row-major, channels interleaved', images }, 200, { 'Cache-Control': 'no-store', 'X-Model-Version': m.version });
    }, rejectInvalid(PngQuery, GenerateRequest));
}
