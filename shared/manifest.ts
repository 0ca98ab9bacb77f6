/**
 * The manifest: the contract between a trained graph and everything that serves it, as a zod schema (its types are
 * inferred from it). The exporter writes one beside each model's `.onnx` files and validates it before writing; the
 * edge validates it again at load and at upload, and its public part is the API's model response (edge/api/schemas.ts).
 */
import { z } from 'zod';
import { LATENT_DISTRIBUTIONS } from './latent.js';
import { PIXEL_RANGES } from './pixels.js';
import { FIT_MODES, parseBackground, type PreprocessOptions } from './preprocess.js';

export const MANIFEST_SCHEMA_VERSION = 1;
export const MODEL_FAMILIES = ['dcgan', 'gan', 'vae', 'cgan'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** Tensor names inside every exported graph. */
export const TENSOR_NAMES = {
  latent: 'z',
  label: 'label',
  image: 'image',
  mean: 'mean',
  logvar: 'logvar',
} as const;

/** A graph's roles: GAN-like models export a generator; a VAE a decoder and an encoder. */
export const GRAPH_ROLES = ['generator', 'decoder', 'encoder'] as const;
export type GraphRole = (typeof GRAPH_ROLES)[number];

export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** A model id: also a URL path segment and an R2 key prefix. */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A version: also an R2 key segment, so no leading dot ('.', '..') and no '/'. */
export const VERSION_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

// Field schemas whose messages say what is allowed; validateManifest prefixes the field's path.
const got = (input: unknown) => JSON.stringify(input)?.slice(0, 80);
const text = () => z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });
const matching = (pattern: RegExp) => text().regex(pattern, { error: (iss) => `must match ${pattern}, got ${got(iss.input)}` });
const int = (min: number, max: number) => {
  const error = (iss: { input?: unknown }) => `must be an integer in [${min}, ${max}], got ${got(iss.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: (iss) => `must be one of ${values.join(', ')}, got ${got(iss.input)}` });
const object = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { error: 'must be an object' });
const isoDate = () => text().refine((v) => !Number.isNaN(Date.parse(v)), { error: (iss) => `must be an ISO date, got ${got(iss.input)}` });
const sha256 = () => matching(/^[0-9a-f]{64}$/);
/** One fraction in [0, 1] per class, or null. */
const fractions = () => z.array(z.number().min(0).max(1).nullable(), { error: 'must be an array of numbers in [0, 1] or null, one per class' });

export const TensorSpecSchema = object({
  name: text(),
  dtype: oneOf(['float32', 'int64']),
  /** Dimensions; the string 'batch' marks the dynamic batch dimension. */
  shape: z.array(z.union([z.literal('batch'), z.number().int().positive()]), { error: "must be an array of positive integers or 'batch'" }),
});

export const GraphSpecSchema = object({
  /** File name beside the manifest. */
  file: matching(/^[A-Za-z0-9._-]+\.onnx$/),
  sha256: sha256(),
  inputs: z.array(TensorSpecSchema, { error: 'must be a non-empty array' }).min(1, { error: 'must be a non-empty array' }),
  outputs: z.array(TensorSpecSchema, { error: 'must be a non-empty array' }).min(1, { error: 'must be a non-empty array' }),
});

export const TrainingRecordSchema = object({
  dataset: text(),
  steps: int(0, Number.MAX_SAFE_INTEGER),
  epochs: int(0, Number.MAX_SAFE_INTEGER),
  batchSize: int(1, 1 << 20),
  wallTimeSeconds: z.number({ error: 'must be a number' }).default(0),
  backend: text(),
  finalLosses: z.record(z.string(), z.number({ error: 'must be a number' }), { error: 'must be an object' }),
  seed: int(0, 0xffffffff),
  /** The full training configuration, for reproduction. */
  config: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
});

/**
 * A model card's numbers, written by `npm run eval` (trainer/eval/): measured with the data set's ruler (its
 * classifier, named by its sha256) on `samples` generated images drawn from `seed`.
 */
export const EvaluationSchema = object({
  evaluatedAt: isoDate(),
  /**
   * The ruler the numbers were measured with: its graph's sha256, its accuracy on its own test split, and its name
   * (the data set it was trained on, and 'rotation' for a self-supervised one). Absent name: cards written before.
   */
  classifier: object({
    sha256: sha256(),
    testAccuracy: z.number({ error: 'must be a number in [0, 1]' }).min(0, { error: 'must be a number in [0, 1]' }).max(1, { error: 'must be a number in [0, 1]' }),
    ruler: z.string({ error: 'must be a string' }).optional(),
  }),
  samples: int(1, Number.MAX_SAFE_INTEGER),
  seed: int(0, 0xffffffff),
  /**
   * fcd (Frechet classifier distance to the test set), fcdRealReference (the same for real training images),
   * classifierScore; cGAN: classAccuracy; VAE: testNegativeElbo, iwaeBound, iwaeElbo, iwaeSamples, iwaeImages,
   * reconstructionFcd. Likelihoods in nats per image (pixels / 255, Bernoulli).
   */
  metrics: z.record(z.string(), z.number({ error: 'must be a finite number' }), { error: 'must be an object' }),
  /** How many samples the classifier puts in each class. */
  classHistogram: z.array(z.number().int().min(0), { error: 'must be an array of counts' }),
  /**
   * Conditional models, per class (the ruler's class order; null: no sample or test image of that class): how often
   * a sample asked for the class is classified as it, and how often the ruler classifies its real test images of the
   * class correctly, its ceiling. The overall classAccuracy weights the first by the test split's class counts.
   */
  classAccuracyByClass: fractions().optional(),
  rulerAccuracyByClass: fractions().optional(),
  /** Conditional image-folder models, per class asked for: memorisedFraction of those samples. */
  memorisedByClass: fractions().optional(),
});

/** The manifest's fields; ManifestSchema adds the checks that span fields. */
export const ManifestShape = object({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION, { error: (iss) => `must be ${MANIFEST_SCHEMA_VERSION}, got ${got(iss.input)}` }),
  id: matching(MODEL_ID_PATTERN),
  family: oneOf(MODEL_FAMILIES),
  version: matching(VERSION_PATTERN),
  createdAt: isoDate(),
  description: z.string({ error: 'must be a string' }),
  latent: object({ size: int(1, 4096), distribution: oneOf(LATENT_DISTRIBUTIONS) }),
  /** `count` 0 means unconditional; `labels` names each class index. */
  classes: object({ count: int(0, 1000), labels: z.array(z.string(), { error: 'must be an array of strings' }) }),
  /**
   * Image shape and the range of pixel values the graph produces (NCHW output). `preprocess`: how the training
   * images were fitted and what transparency was composited over (shared/preprocess.ts); the encode route applies
   * the same to uploads. Absent (IDX-trained models): fit crop over black, Fashion-MNIST's background.
   */
  image: object({
    width: int(1, 4096),
    height: int(1, 4096),
    channels: z.union([z.literal(1), z.literal(3), z.literal(4)], { error: 'must be 1, 3 or 4' }),
    pixelRange: oneOf(PIXEL_RANGES),
    preprocess: object({ fit: oneOf(FIT_MODES), background: matching(/^#[0-9a-f]{6}$/) }).optional(),
  }),
  graphs: z.partialRecord(z.enum(GRAPH_ROLES, { error: (iss) => `has a key that is not a graph role (${GRAPH_ROLES.join(', ')}): ${got(iss.input)}` }), GraphSpecSchema, { error: 'must be an object' }),
  training: TrainingRecordSchema,
  evaluation: EvaluationSchema.optional(),
  /** Why the card has no numbers: its data set has no ruler (an unlabelled folder, say), so FCD cannot be measured. */
  evaluationNote: text().optional(),
});

export const ManifestSchema = ManifestShape.superRefine((m, ctx) => {
  // What depends on more than one field.
  if (m.classes.labels.length !== m.classes.count) ctx.addIssue({ code: 'custom', path: ['classes', 'labels'], message: `must be ${m.classes.count} strings` });
  if ((m.family === 'cgan') !== m.classes.count > 0) ctx.addIssue({ code: 'custom', path: ['classes', 'count'], message: `must be ${m.family === 'cgan' ? '> 0' : '0'} for family ${m.family}` });
  const role = imageGraphRole(m.family);
  if (!m.graphs[role]) ctx.addIssue({ code: 'custom', path: ['graphs', role], message: `is required for family ${m.family}` });
});

export type TensorSpec = z.output<typeof TensorSpecSchema>;
export type GraphSpec = z.output<typeof GraphSpecSchema>;
export type TrainingRecord = z.output<typeof TrainingRecordSchema>;
export type Evaluation = z.output<typeof EvaluationSchema>;
export type Manifest = z.output<typeof ManifestSchema>;

/** `manifest.graphs.generator.inputs[0].name` for the path ['graphs', 'generator', 'inputs', 0, 'name']. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${String(k)}`), 'manifest');
}

/** Checks `value` against the schema and returns it typed; throws ManifestError naming the first bad field. */
export function validateManifest(value: unknown): Manifest {
  const r = ManifestSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ManifestError(`${fieldPath(issue.path)} ${issue.message}`);
}

/** How an upload becomes this model's input (shared/preprocess.ts): the manifest's record, or IDX defaults. */
export function preprocessFor(m: Manifest): PreprocessOptions {
  const p = m.image.preprocess ?? { fit: 'crop', background: '#000000' };
  if (m.image.width !== m.image.height) throw new ManifestError(`manifest.image: uploads need a square model, got ${m.image.width}x${m.image.height}`);
  return { size: m.image.width, channels: m.image.channels === 1 ? 1 : 3, fit: p.fit, background: parseBackground(p.background)! };
}

/** The graph that produces images: the decoder of a VAE, the generator otherwise. */
export function imageGraphRole(family: ModelFamily): GraphRole {
  return family === 'vae' ? 'decoder' : 'generator';
}
