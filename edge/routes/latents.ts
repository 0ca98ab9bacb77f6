/**
 * GET latents (the latents a seed maps to) and POST generate (decoder-only generation from given latents): with
 * both, a client can do the DCGAN paper's latent arithmetic on seeds it liked.
 */
import { Hono } from 'hono';
import { defaultColumns } from '../../shared/grid.js';
import { latentsForSeed } from '../../shared/latent.js';
import type { Manifest } from '../../shared/manifest.js';
import { readJson } from '../body.js';
import { HttpError } from '../errors.js';
import { latentsToImages } from '../generate.js';
import type { ModelRegistry } from '../model-registry.js';
import { intParam, parseSeed, readQuery } from '../params.js';
import { BODY_LIMITS, QUERIES } from '../query-schema.js';
import { notModified, seededResponse, uncachedPng } from '../responses.js';
import { maxImages, renderGrid, scaleParam } from './shared.js';
import { chargeImages } from '../rate-limit.js';

/** Latent values beyond this magnitude are rejected: no prior puts mass there, and they can only produce junk. */
export const MAX_LATENT_ABS = BODY_LIMITS.maxLatentAbs;

export interface GenerateRequest {
  latents: Float32Array;
  n: number;
  classes?: number[];
  format: 'png' | 'json';
  cols: number;
}

const bad = (message: string, allowed?: unknown) => new HttpError(400, 'invalid_body', message, allowed);

/** Validates a generate body against the model; every error names the field and what is allowed. */
export function parseGenerateBody(body: unknown, m: Manifest): GenerateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body must be a JSON object: { "latents": number[][], "classes"?: number[], "format"?: "png" | "json", "cols"?: number }');
  const b = body as Record<string, unknown>;
  const known = ['latents', 'classes', 'format', 'cols'];
  const unknown = Object.keys(b).find((k) => !known.includes(k));
  if (unknown) throw bad(`unknown field "${unknown}"`, known);
  const size = m.latent.size;
  const rows = b['latents'];
  const max = maxImages(m);
  if (!Array.isArray(rows) || rows.length < 1 || rows.length > max) throw bad(`"latents" must be an array of 1 to ${max} latent vectors`, { min: 1, max });
  const latents = new Float32Array(rows.length * size);
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== size) throw bad(`"latents[${i}]" must be an array of ${size} numbers (the model's latent size)`, { length: size });
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_LATENT_ABS) throw bad(`"latents[${i}][${j}]" must be a finite number in [-${MAX_LATENT_ABS}, ${MAX_LATENT_ABS}]`);
      latents[i * size + j] = v;
    });
  });
  const n = rows.length;
  const k = m.classes.count;
  let classes: number[] | undefined;
  if (b['classes'] !== undefined) {
    if (k === 0) throw bad(`model "${m.id}" is unconditional: "classes" is not accepted`);
    const cs = b['classes'];
    if (!Array.isArray(cs) || cs.length !== n || !cs.every((x) => Number.isInteger(x) && x >= 0 && x < k)) {
      throw bad(`"classes" must be ${n} integers in [0, ${k - 1}], one per latent`, { min: 0, max: k - 1, labels: m.classes.labels });
    }
    classes = cs as number[];
  } else if (k > 0) {
    throw bad(`model "${m.id}" is conditional: "classes" is required, ${n} integers in [0, ${k - 1}]`, { labels: m.classes.labels });
  }
  const format = b['format'] ?? 'png';
  if (format !== 'png' && format !== 'json') throw bad('"format" must be "png" or "json"', ['png', 'json']);
  const cols = b['cols'] ?? defaultColumns(n);
  if (!Number.isInteger(cols) || (cols as number) < 1 || (cols as number) > n) throw bad(`"cols" must be an integer in [1, ${n}]`, { min: 1, max: n });
  return { latents, n, ...(classes ? { classes } : {}), format, cols: cols as number };
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function latentRoutes(registry: ModelRegistry): Hono {
  const app = new Hono();

  app.get('/:id/latents', async (c) => {
    const { manifest: m } = await registry.resolve(c.req.param('id'));
    const q = readQuery(c, Object.keys(QUERIES.latents));
    const { seed, given } = await parseSeed(q['seed']);
    const n = intParam(q, 'n', QUERIES.latents.n);
    const key = { version: m.version, pinned: c.req.param('id').includes('@'), what: `latents:s=${seed}:n=${n}` };
    const cached = notModified(c, key, given);
    if (cached) return cached;
    const flat = latentsForSeed(seed, n, m.latent.size, m.latent.distribution);
    const latents = Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * m.latent.size, (i + 1) * m.latent.size)));
    const body = JSON.stringify({ seed, n, size: m.latent.size, distribution: m.latent.distribution, latents });
    return seededResponse(body, 'application/json', key, seed, given);
  });

  app.post('/:id/generate', async (c) => {
    const entry = await registry.resolve(c.req.param('id'));
    const m = entry.manifest;
    const q = readQuery(c, Object.keys(QUERIES.png));
    const req = parseGenerateBody(await readJson(c), m);
    await chargeImages(c, req.n);
    const scale = scaleParam(q, req.cols * m.image.width, Math.ceil(req.n / req.cols) * m.image.height);
    if (req.format === 'png') return uncachedPng(await renderGrid(registry, entry, req.latents, req.n, req.cols, req.classes, scale), m.version);
    if (scale !== 1) throw new HttpError(400, 'invalid_parameter', '"scale" applies to PNG output, not to format "json"');
    const pixels = await latentsToImages(m, await registry.session(entry), req.latents, req.n, req.classes);
    const { width, height, channels } = m.image;
    const per = width * height * channels;
    const images = Array.from({ length: req.n }, (_, i) => ({ width, height, channels, data: base64(pixels.subarray(i * per, (i + 1) * per)) }));
    return c.json({ model: m.id, version: m.version, encoding: 'base64 of uint8 pixels, row-major, channels interleaved', images }, 200, { 'Cache-Control': 'no-store', 'X-Model-Version': m.version });
  });

  return app;
}
