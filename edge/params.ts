/** Query-string validation at the edge of each route: unknown names and bad values are 400s that say what is allowed. */
import type { Context } from 'hono';
import { MAX_SEED, MAX_SEED_STRING_BYTES, seedFromString } from '../shared/rng.js';
import { HttpError } from './errors.js';
import { queryPairs } from './url-parts.js';
import type { Manifest } from '../shared/manifest.js';
import type { IntegerParam } from './query-schema.js';

/** The query as a plain record, after rejecting names outside `allowed` and repeated names. */
export function readQuery(c: Context, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of queryPairs(c.req.url)) {
    if (!allowed.includes(name)) throw new HttpError(400, 'unknown_parameter', `unknown query parameter "${name}"`, allowed);
    if (name in out) throw new HttpError(400, 'invalid_parameter', `query parameter "${name}" is given more than once`);
    out[name] = value;
  }
  return out;
}

export function parseInteger(name: string, value: string | undefined, min: number, max: number, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new HttpError(400, 'invalid_parameter', `query parameter "${name}" is required: an integer in [${min}, ${max}]`, { min, max });
    return fallback;
  }
  const n = Number(value);
  if (!/^\d{1,16}$/.test(value) || n < min || n > max) {
    throw new HttpError(400, 'invalid_parameter', `"${name}" must be an integer in [${min}, ${max}], got "${value.slice(0, 40)}"`, { min, max });
  }
  return n;
}

/** Parameter `name` of a route's query by its descriptor (query-schema.ts), with bounds tightened for this request. */
export function intParam(q: Record<string, string>, name: string, p: IntegerParam, tighter: { max?: number; default?: number } = {}): number {
  return parseInteger(name, q[name], p.min, Math.min(p.max, tighter.max ?? p.max), tighter.default ?? p.default);
}

const SEED_RULE = `an integer in [0, ${MAX_SEED}] or any string of 1 to ${MAX_SEED_STRING_BYTES} UTF-8 bytes`;

/**
 * A seed parameter (shared/rng.ts's seedFromString: a number in [0, 2^32) or any string of 1 to 256 UTF-8 bytes),
 * or, when absent and `optional`, a fresh random one (then `given` is false and the response must not be cached).
 */
export async function parseSeed(value: string | undefined, name = 'seed', optional = true): Promise<{ seed: number; given: boolean }> {
  if (value === undefined) {
    if (optional) return { seed: crypto.getRandomValues(new Uint32Array(1))[0]!, given: false };
    throw new HttpError(400, 'invalid_parameter', `query parameter "${name}" is required: ${SEED_RULE}`, { maxBytes: MAX_SEED_STRING_BYTES });
  }
  const seed = await seedFromString(value);
  if (seed === null) throw new HttpError(400, 'invalid_parameter', `"${name}" must be ${SEED_RULE}, got ${value.length === 0 ? 'an empty string' : `${new TextEncoder().encode(value).length} bytes`}`, { maxBytes: MAX_SEED_STRING_BYTES });
  return { seed, given: true };
}

/**
 * The `class` parameter against the model: rejected for unconditional models; for a conditional one an index in
 * [0, classes - 1], required unless `optional`.
 */
export function parseClass(manifest: Manifest, value: string | undefined, optional = false): number | undefined {
  const k = manifest.classes.count;
  if (k === 0) {
    if (value !== undefined) throw new HttpError(400, 'invalid_parameter', `model "${manifest.id}" is unconditional: "class" is not accepted`);
    return undefined;
  }
  if (value === undefined && optional) return undefined;
  return parseInteger('class', value, 0, k - 1);
}

/** Class indices for `n` images: one class for all, or (none given) class i mod k for image i. */
export function classesFor(manifest: Manifest, n: number, cls: number | undefined): Uint8Array | undefined {
  const k = manifest.classes.count;
  if (k === 0) return undefined;
  return new Uint8Array(n).map((_, i) => cls ?? i % k);
}
