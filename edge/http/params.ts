/**
 * What the schemas (schemas.ts) cannot check alone, because it depends on the model or on other parameters: the
 * seed's number, bounds tightened for this request, and the class against the model. Each error says what is
 * allowed, in the schemas' words.
 */
import { seedFromString } from '../../shared/rng.js';
import { HttpError } from '../api/errors.js';
import type { Manifest } from '../../shared/manifest.js';

/** `value` of parameter `name` within [min, max] (a bound tighter than its schema's, for this model or request). */
export function within(name: string, value: number, min: number, max: number): number {
  if (value < min || value > max) throw new HttpError(400, 'invalid_parameter', `"${name}" must be an integer in [${min}, ${max}], got "${value}"`, { min, max });
  return value;
}

/**
 * The number of a validated seed parameter (shared/rng.ts's seedFromString), or, when absent, a fresh random one
 * (then `given` is false and the response must not be cached).
 */
export async function seedOf(value: string | undefined): Promise<{ seed: number; given: boolean }> {
  if (value === undefined) return { seed: crypto.getRandomValues(new Uint32Array(1))[0]!, given: false };
  const seed = await seedFromString(value);
  if (seed === null) throw new HttpError(500, 'internal', 'a validated seed has no number'); // schemas.ts rules this out
  return { seed, given: true };
}

/**
 * The `class` parameter against the model: rejected for unconditional models; for a conditional one an index in
 * [0, classes - 1] or one of its labels, required unless `optional`. The error names the model's range and labels.
 */
export function parseClass(manifest: Manifest, value: string | undefined, optional = false): number | undefined {
  const k = manifest.classes.count;
  if (k === 0) {
    if (value !== undefined) throw new HttpError(400, 'invalid_parameter', `model "${manifest.id}" is unconditional: "class" is not accepted`);
    return undefined;
  }
  const labels = manifest.classes.labels;
  const shown = labels.length > 12 ? `${labels.slice(0, 12).join(', ')}, ...` : labels.join(', ');
  const rule = `an integer in [0, ${k - 1}] or a label (${shown})`;
  const allowed = { min: 0, max: k - 1, labels };
  if (value === undefined) {
    if (optional) return undefined;
    throw new HttpError(400, 'invalid_parameter', `query parameter "class" is required: ${rule}`, allowed);
  }
  const index = /^\d{1,16}$/.test(value) ? Number(value) : labels.indexOf(value);
  if (index < 0 || index > k - 1) throw new HttpError(400, 'invalid_parameter', `"class" must be ${rule}, got "${value.slice(0, 40)}"`, allowed);
  return index;
}

/** Class indices for `n` images: one class for all, or (none given) class i mod k for image i. */
export function classesFor(manifest: Manifest, n: number, cls: number | undefined): Uint8Array | undefined {
  const k = manifest.classes.count;
  if (k === 0) return undefined;
  return new Uint8Array(n).map((_, i) => cls ?? i % k);
}
