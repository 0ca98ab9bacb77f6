/**
 * The public API's contracts as zod schemas: each route's query parameters, the generate body, the error body and
 * the JSON responses. The routes validate with them (Hono's validator middleware through @hono/zod-openapi, with
 * validation.ts turning a failure into the API's one error type) and GET /v1/openapi.json is generated from them,
 * so the two cannot drift. Each schema's error messages name the parameter and what is allowed. Bounds that depend
 * on the model (a grid's largest size for large images, a class index, the latent size) are tightened per request
 * by the route and said in its error; the schemas describe the widest bounds.
 */
import { z } from '@hono/zod-openapi';
import { MAX_SEED, MAX_SEED_STRING_BYTES } from '../../shared/rng.js';
import { ERROR_CODES } from './errors.js';
import { EvaluationSchema, ManifestShape, MODEL_ID_PATTERN, TrainingRecordSchema, VERSION_PATTERN } from '../../shared/manifest.js';
import { MAX_BODY_BYTES, MAX_IMAGES, MAX_LATENT_ABS } from './limits.js';

export const DEFAULT_GRID_SIZE = 16;

const SEED_RULE = `an integer in [0, ${MAX_SEED}] or any string of 1 to ${MAX_SEED_STRING_BYTES} UTF-8 bytes`;
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/** The message of a query value that is absent (required), repeated, or not a string. */
const presence = (name: string, rule: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `query parameter "${name}" is required: ${rule}` : `query parameter "${name}" is given more than once`;

/**
 * A seed: an integer in [0, 2^32) or any string of 1 to 256 UTF-8 bytes, which shared/rng.ts's seedFromString maps
 * to a number (the route does that: it is asynchronous). Absent and not required: a random seed.
 */
export function seedParam(name: string, description: string, required = false) {
  const s = z
    .string({ error: presence(name, SEED_RULE) })
    .refine((v) => v.length > 0 && utf8Bytes(v) <= MAX_SEED_STRING_BYTES, {
      error: (iss) => `"${name}" must be ${SEED_RULE}, got ${iss.input === '' ? 'an empty string' : `${utf8Bytes(String(iss.input))} bytes`}`,
      params: { allowed: { maxBytes: MAX_SEED_STRING_BYTES } },
    });
  const schema = {
    oneOf: [{ type: 'integer' as const, minimum: 0, maximum: MAX_SEED }, { type: 'string' as const, minLength: 1, description: `at most ${MAX_SEED_STRING_BYTES} UTF-8 bytes` }],
    'x-max-bytes': MAX_SEED_STRING_BYTES,
    description,
  };
  return (required ? s : s.optional()).openapi(schema);
}

interface IntOptions {
  min: number;
  max: number;
  description: string;
  /** A default the route applies itself, because it depends on the model: documented only. */
  documentedDefault?: number;
}

/** A decimal integer in [min, max]: the query string's text, parsed; undefined when absent. */
export function intParam(name: string, o: IntOptions) {
  const bounds = { min: o.min, max: o.max };
  const doc = { type: 'integer' as const, minimum: o.min, maximum: o.max, description: o.description, ...(o.documentedDefault !== undefined ? { default: o.documentedDefault } : {}) };
  return z
    .string({ error: presence(name, `an integer in [${o.min}, ${o.max}]`) })
    .transform((v, ctx) => {
      const n = Number(v);
      if (/^\d{1,16}$/.test(v) && n >= o.min && n <= o.max) return n;
      ctx.addIssue({ code: 'custom', message: `"${name}" must be an integer in [${o.min}, ${o.max}], got "${v.slice(0, 40)}"`, params: { allowed: bounds } });
      return z.NEVER;
    })
    .optional()
    .openapi(doc);
}

/** intParam with a default when absent. */
export function intParamOr(name: string, fallback: number, o: IntOptions) {
  return intParam(name, { ...o, documentedDefault: fallback }).transform((n) => n ?? fallback);
}

/** The query of a route: exactly these parameters (an unknown one is a 400 naming the allowed ones). */
const query = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);

const seedDescription =
  'Seed of the latents: an integer in [0, 4294967295], or any string of 1 to 256 UTF-8 bytes (a user id, an e-mail address), which becomes the first 4 bytes of its SHA-256 (shared/rng.ts). X-Seed says the number used. Without it a random seed is used and the response is not cacheable.';
const classDescription = "Class of a conditional model: its index (0 .. classes.count - 1) or its label (one of the model's classes.labels). Rejected by unconditional models.";
const seed = seedParam('seed', seedDescription);
const scale = intParamOr('scale', 1, { min: 1, max: 8, description: 'Nearest-neighbour upscaling factor of the PNG (crisp pixels in an <img> tag); fewer when the output would pass 2048 x 2048 pixels.' });
/** A class: its index or its label (params.ts's parseClass checks it against the model: the range depends on it). */
const cls = (extra: string) =>
  z
    .string({ error: presence('class', "a class index or one of the model's classes.labels") })
    .max(256, '"class" must be a class index or label of at most 256 characters')
    .optional()
    .openapi({ oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', minLength: 1 }], description: `${classDescription} ${extra}` });

export const SampleQuery = query({ seed, scale, class: cls('Required by conditional models.') });
export const GridQuery = query({
  seed,
  n: intParam('n', { min: 1, max: MAX_IMAGES, documentedDefault: DEFAULT_GRID_SIZE, description: 'Number of images (fewer allowed for models with images larger than 256x256).' }),
  cols: intParam('cols', { min: 1, max: MAX_IMAGES, description: 'Columns of the grid, at most n; default ceil(sqrt(n)).' }),
  scale,
  class: cls("Without it a conditional model's image i has class i mod classes.count."),
});
export const InterpolateQuery = query({
  from: seedParam('from', 'Seed of the first image (a number or a string, as `seed`).', true),
  to: seedParam('to', 'Seed of the last image (a number or a string, as `seed`).', true),
  steps: intParamOr('steps', 8, { min: 2, max: MAX_IMAGES, description: 'Number of images from `from` to `to`: spherical interpolation for normal latents, linear for uniform.' }),
  scale,
  class: cls('Required by conditional models.'),
});
/** POST generate (format png) and reconstruct. */
export const PngQuery = query({ scale });
export const LatentsQuery = query({ seed, n: intParamOr('n', 1, { min: 1, max: MAX_IMAGES, description: 'Number of latents.' }) });
/** Routes that take no query parameters. */
export const NoQuery = query({});

/** A model reference in the path: an id, or `{id}@{version}` to pin one version. */
export const ModelParams = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path' },
    description: 'Model id, from GET /v1/models; `{id}@{version}` pins one version: its responses never change (immutable).',
    pattern: `^${MODEL_ID_PATTERN.source.slice(1, -1)}(@${VERSION_PATTERN.source.slice(1, -1)})?$`,
    example: 'emoji-dcgan',
  }),
});

/** A field's one message, whatever check fails (a schema's `error` option). */
const says = (message: string) => ({ error: () => message });
const LATENT_RULE = `must be a finite number in [-${MAX_LATENT_ABS}, ${MAX_LATENT_ABS}]`;
/** The same message for a non-number and for either bound, naming the element (`latents[0][5]`). */
const latentError = { error: (iss: { path?: readonly PropertyKey[] }) => `"${pathName(iss.path)}" ${LATENT_RULE}` };
const latentValue = z.number(latentError).min(-MAX_LATENT_ABS, latentError).max(MAX_LATENT_ABS, latentError);
const LATENTS_RULE = `"latents" must be an array of 1 to ${MAX_IMAGES} latent vectors`;
const COLS_RULE = '"cols" must be an integer in [1, n]';

/** POST generate's body; the model's latent size, class count and image count are checked by the route. */
export const GenerateRequest = z
  .strictObject(
    {
      latents: z
        .array(z.array(latentValue, { error: (iss) => `"${pathName(iss.path)}" must be an array of numbers (the model's latent size)` }), says(LATENTS_RULE))
        .min(1, says(LATENTS_RULE))
        .max(MAX_IMAGES, says(LATENTS_RULE))
        .openapi({ description: "Latent vectors, each exactly the model's latent.size numbers." }),
      classes: z
        .array(z.number().int().min(0), says('"classes" must be an array of class indices, one per latent'))
        .optional()
        .openapi({ description: 'Conditional models only, one class index per latent (required there).' }),
      format: z.enum(['png', 'json'], says('"format" must be "png" or "json"')).default('png'),
      cols: z.number(says(COLS_RULE)).int(says(COLS_RULE)).min(1, says(COLS_RULE)).max(MAX_IMAGES, says(COLS_RULE)).optional(),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field "${iss.keys[0]}"` : 'body must be a JSON object: { "latents": number[][], "classes"?: number[], "format"?: "png" | "json", "cols"?: number }') },
  )
  .openapi('GenerateRequest', { description: `Body at most ${MAX_BODY_BYTES} bytes.` });

/** `latents[0][5]` for the path ['latents', 0, 5]. */
export function pathName(path: readonly PropertyKey[] | undefined): string {
  return (path ?? []).map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Every 4xx and 5xx body. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string().openapi({ description: 'What was wrong, and what is allowed.' }),
      allowed: z.unknown().optional().openapi({ description: 'What would have been accepted, when that is short enough to say.' }),
    }),
  })
  .openapi('Error');

/** A model as GET /v1/models lists it (routes/models.ts publicModel): the manifest without files, hashes or config. */
export const ModelResponse = ManifestShape.pick({ id: true, family: true, version: true, createdAt: true, description: true, latent: true, classes: true, image: true, evaluationNote: true })
  .extend({
    canEncode: z.boolean(),
    training: TrainingRecordSchema.omit({ config: true }),
    evaluation: EvaluationSchema.nullable().openapi({ description: 'The model card (npm run eval): FCD, classifier score, class histogram, class accuracy (cGAN), likelihood bounds (VAE), memorisation (image folders); null until measured.' }),
    links: z.record(z.string(), z.string()).openapi({ description: 'sample, grid, interpolate; pinnedSample and pinnedGrid (version-pinned, immutable: embed these); the graphs.' }),
  })
  .openapi('Model');

export const LatentsResponse = z.object({
  seed: z.number().int(),
  n: z.number().int(),
  size: z.number().int(),
  distribution: z.enum(['normal', 'uniform']),
  latents: z.array(z.array(z.number())),
});

export const GenerateJsonResponse = z.object({
  model: z.string(),
  version: z.string(),
  encoding: z.string(),
  images: z.array(z.object({ width: z.number().int(), height: z.number().int(), channels: z.number().int(), data: z.string().openapi({ format: 'byte', description: 'base64' }) })),
});

export const EncodeResponse = z.object({ model: z.string(), version: z.string(), mean: z.array(z.number()), logvar: z.array(z.number()) });

/** The error responses every public route may give. */
export const errorResponses = {
  '4XX': { description: 'Bad input, unknown model, too large, or rate limited: what was wrong and what is allowed.', content: { 'application/json': { schema: ErrorBody } } },
  503: { description: 'The model cannot load (only that model).', content: { 'application/json': { schema: ErrorBody } } },
} as const;

export const pngContent = { 'image/png': { schema: z.string().openapi({ format: 'binary' }) } };

export const CACHING_NOTE =
  'With a seed the response has a strong ETag bound to the model version (304 on If-None-Match): immutable at a version-pinned URL (/v1/models/{id}@{version}/...), kept 60 s (stale-while-revalidate 600 s) at the unversioned one, which follows activations and rollbacks. Without a seed, X-Seed says the seed used and the response is not stored. X-Model-Version names the model version.';
