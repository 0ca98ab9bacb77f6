/**
 * The manifest: the contract between a trained graph and everything that serves it. The exporter writes one
 * beside each model's `.onnx` files and validates it before writing; the edge validates it again at load.
 */
import { LATENT_DISTRIBUTIONS, type LatentDistribution } from './latent.js';
import { PIXEL_RANGES, type PixelRange } from './pixels.js';
import { FIT_MODES, parseBackground, type FitMode, type PreprocessOptions } from './preprocess.js';

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

export interface TensorSpec {
  name: string;
  dtype: 'float32' | 'int64';
  /** Dimensions; the string 'batch' marks the dynamic batch dimension. */
  shape: (number | 'batch')[];
}

export interface GraphSpec {
  /** File name beside the manifest. */
  file: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface TrainingRecord {
  dataset: string;
  steps: number;
  epochs: number;
  batchSize: number;
  wallTimeSeconds: number;
  backend: string;
  finalLosses: Record<string, number>;
  seed: number;
  /** The full training configuration, for reproduction. */
  config: Record<string, unknown>;
}

/**
 * A model card's numbers, written by `npm run eval` (trainer/eval/): measured with the project's Fashion-MNIST
 * classifier (named by its sha256) on `samples` generated images drawn from `seed`.
 */
export interface Evaluation {
  evaluatedAt: string;
  classifier: { sha256: string; testAccuracy: number };
  samples: number;
  seed: number;
  /**
   * fcd (Frechet classifier distance to the test set), fcdRealReference (the same for real training images),
   * classifierScore; cGAN: classAccuracy; VAE: testNegativeElbo, iwaeBound, iwaeElbo, iwaeSamples, iwaeImages,
   * reconstructionFcd. Likelihoods in nats per image (pixels / 255, Bernoulli).
   */
  metrics: Record<string, number>;
  /** How many samples the classifier puts in each class. */
  classHistogram: number[];
}

export interface Manifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  id: string;
  family: ModelFamily;
  version: string;
  createdAt: string;
  description: string;
  latent: { size: number; distribution: LatentDistribution };
  /** `count` 0 means unconditional; `labels` names each class index. */
  classes: { count: number; labels: string[] };
  /**
   * Image shape and the range of pixel values the graph produces (NCHW output). `preprocess`: how the training
   * images were fitted and what transparency was composited over (shared/preprocess.ts); the encode route applies
   * the same to uploads. Absent (IDX-trained models): fit crop over black, Fashion-MNIST's background.
   */
  image: { width: number; height: number; channels: 1 | 3 | 4; pixelRange: PixelRange; preprocess?: { fit: FitMode; background: string } };
  graphs: Partial<Record<GraphRole, GraphSpec>>;
  training: TrainingRecord;
  evaluation?: Evaluation;
  /** Why the card has no numbers: its data set has no ruler (an unlabelled folder, say), so FCD cannot be measured. */
  evaluationNote?: string;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** A model id: also a URL path segment and an R2 key prefix. */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A version: also an R2 key segment, so no leading dot ('.', '..') and no '/'. */
export const VERSION_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestError(`${path} must be an object`);
  return v as Obj;
}
function str(o: Obj, key: string, path: string, pattern?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw new ManifestError(`${path}.${key} must be a non-empty string`);
  if (pattern && !pattern.test(v)) throw new ManifestError(`${path}.${key} must match ${pattern}, got "${v}"`);
  return v;
}
function int(o: Obj, key: string, path: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ManifestError(`${path}.${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}
function oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[]): T {
  const v = o[key];
  if (!allowed.includes(v as T)) throw new ManifestError(`${path}.${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function tensorSpec(v: unknown, path: string): TensorSpec {
  const o = obj(v, path);
  const shape = o['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => d === 'batch' || (Number.isInteger(d) && d > 0))) {
    throw new ManifestError(`${path}.shape must be an array of positive integers or 'batch'`);
  }
  return { name: str(o, 'name', path), dtype: oneOf(o, 'dtype', path, ['float32', 'int64'] as const), shape };
}

function graphSpec(v: unknown, path: string): GraphSpec {
  const o = obj(v, path);
  const list = (key: string) => {
    const a = o[key];
    if (!Array.isArray(a) || a.length === 0) throw new ManifestError(`${path}.${key} must be a non-empty array`);
    return a.map((t, i) => tensorSpec(t, `${path}.${key}[${i}]`));
  };
  return {
    file: str(o, 'file', path, /^[A-Za-z0-9._-]+\.onnx$/),
    sha256: str(o, 'sha256', path, /^[0-9a-f]{64}$/),
    inputs: list('inputs'),
    outputs: list('outputs'),
  };
}

function evaluation(v: unknown): Evaluation {
  const path = 'manifest.evaluation';
  const o = obj(v, path);
  const classifier = obj(o['classifier'], `${path}.classifier`);
  const metrics = obj(o['metrics'], `${path}.metrics`);
  for (const [k, x] of Object.entries(metrics)) if (typeof x !== 'number' || !Number.isFinite(x)) throw new ManifestError(`${path}.metrics.${k} must be a finite number`);
  const histogram = o['classHistogram'];
  if (!Array.isArray(histogram) || !histogram.every((c) => Number.isInteger(c) && c >= 0)) throw new ManifestError(`${path}.classHistogram must be an array of counts`);
  const accuracy = classifier['testAccuracy'];
  if (typeof accuracy !== 'number' || accuracy < 0 || accuracy > 1) throw new ManifestError(`${path}.classifier.testAccuracy must be a number in [0, 1]`);
  const evaluatedAt = str(o, 'evaluatedAt', path);
  if (Number.isNaN(Date.parse(evaluatedAt))) throw new ManifestError(`${path}.evaluatedAt must be an ISO date`);
  return {
    evaluatedAt,
    classifier: { sha256: str(classifier, 'sha256', `${path}.classifier`, /^[0-9a-f]{64}$/), testAccuracy: accuracy },
    samples: int(o, 'samples', path, 1, Number.MAX_SAFE_INTEGER),
    seed: int(o, 'seed', path, 0, 0xffffffff),
    metrics: metrics as Record<string, number>,
    classHistogram: histogram as number[],
  };
}

/** Checks `value` against the schema and returns it typed; throws ManifestError naming the first bad field. */
export function validateManifest(value: unknown): Manifest {
  const m = obj(value, 'manifest');
  if (m['schemaVersion'] !== MANIFEST_SCHEMA_VERSION) {
    throw new ManifestError(`manifest.schemaVersion must be ${MANIFEST_SCHEMA_VERSION}, got ${JSON.stringify(m['schemaVersion'])}`);
  }
  const family = oneOf(m, 'family', 'manifest', MODEL_FAMILIES);
  const latentObj = obj(m['latent'], 'manifest.latent');
  const classesObj = obj(m['classes'], 'manifest.classes');
  const imageObj = obj(m['image'], 'manifest.image');
  const graphsObj = obj(m['graphs'], 'manifest.graphs');
  const training = obj(m['training'], 'manifest.training');

  const createdAt = str(m, 'createdAt', 'manifest');
  if (Number.isNaN(Date.parse(createdAt))) throw new ManifestError(`manifest.createdAt must be an ISO date, got "${createdAt}"`);
  const classCount = int(classesObj, 'count', 'manifest.classes', 0, 1000);
  const labels = classesObj['labels'];
  if (!Array.isArray(labels) || labels.length !== classCount || !labels.every((l) => typeof l === 'string')) {
    throw new ManifestError(`manifest.classes.labels must be ${classCount} strings`);
  }
  if ((family === 'cgan') !== classCount > 0) {
    throw new ManifestError(`manifest.classes.count must be ${family === 'cgan' ? '> 0' : '0'} for family ${family}`);
  }
  const channels = int(imageObj, 'channels', 'manifest.image', 1, 4);
  if (channels === 2) throw new ManifestError('manifest.image.channels must be 1, 3 or 4');

  const graphs: Partial<Record<GraphRole, GraphSpec>> = {};
  for (const [role, spec] of Object.entries(graphsObj)) {
    if (!(GRAPH_ROLES as readonly string[]).includes(role)) throw new ManifestError(`manifest.graphs.${role} is not a graph role (${GRAPH_ROLES.join(', ')})`);
    graphs[role as GraphRole] = graphSpec(spec, `manifest.graphs.${role}`);
  }
  const imageRole: GraphRole = family === 'vae' ? 'decoder' : 'generator';
  if (!graphs[imageRole]) throw new ManifestError(`manifest.graphs.${imageRole} is required for family ${family}`);

  const losses = obj(training['finalLosses'], 'manifest.training.finalLosses');
  for (const [k, v] of Object.entries(losses)) {
    if (typeof v !== 'number') throw new ManifestError(`manifest.training.finalLosses.${k} must be a number`);
  }
  const description = m['description'];
  if (typeof description !== 'string') throw new ManifestError('manifest.description must be a string');

  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    id: str(m, 'id', 'manifest', MODEL_ID_PATTERN),
    family,
    version: str(m, 'version', 'manifest', VERSION_PATTERN),
    createdAt,
    description,
    latent: { size: int(latentObj, 'size', 'manifest.latent', 1, 4096), distribution: oneOf(latentObj, 'distribution', 'manifest.latent', LATENT_DISTRIBUTIONS) },
    classes: { count: classCount, labels: labels as string[] },
    image: {
      width: int(imageObj, 'width', 'manifest.image', 1, 4096),
      height: int(imageObj, 'height', 'manifest.image', 1, 4096),
      channels: channels as 1 | 3 | 4,
      pixelRange: oneOf(imageObj, 'pixelRange', 'manifest.image', PIXEL_RANGES),
      ...(imageObj['preprocess'] !== undefined ? { preprocess: preprocessRecord(imageObj['preprocess']) } : {}),
    },
    graphs,
    training: {
      dataset: str(training, 'dataset', 'manifest.training'),
      steps: int(training, 'steps', 'manifest.training', 0, Number.MAX_SAFE_INTEGER),
      epochs: int(training, 'epochs', 'manifest.training', 0, Number.MAX_SAFE_INTEGER),
      batchSize: int(training, 'batchSize', 'manifest.training', 1, 1 << 20),
      wallTimeSeconds: typeof training['wallTimeSeconds'] === 'number' ? training['wallTimeSeconds'] : 0,
      backend: str(training, 'backend', 'manifest.training'),
      finalLosses: losses as Record<string, number>,
      seed: int(training, 'seed', 'manifest.training', 0, 0xffffffff),
      config: obj(training['config'], 'manifest.training.config'),
    },
    ...(m['evaluation'] !== undefined ? { evaluation: evaluation(m['evaluation']) } : {}),
    ...(m['evaluationNote'] !== undefined ? { evaluationNote: str(m, 'evaluationNote', 'manifest') } : {}),
  };
}

function preprocessRecord(v: unknown): { fit: FitMode; background: string } {
  const o = obj(v, 'manifest.image.preprocess');
  const fit = oneOf(o, 'fit', 'manifest.image.preprocess', FIT_MODES);
  const background = str(o, 'background', 'manifest.image.preprocess', /^#[0-9a-f]{6}$/);
  return { fit, background };
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
