/**
 * Command-line options of `npm run train`. Every key of a family's config is also a flag (camelCase key ->
 * --kebab-case flag), typed by its default: so a new config field is a new flag with no code here.
 */
import { BACKEND_CHOICES, CONV_KERNEL_CHOICES, type BackendChoice, type ConvKernelChoice } from '../backend/select.js';
import { DEFAULT_DATA_DIR } from '../data/idx.js';
import { FAMILIES } from '../families/index.js';
import { isValidSeed } from '../../shared/rng.js';
import { FIT_MODES, parseBackground, type FitMode } from '../../shared/preprocess.js';
import { IMAGE_SIZE_RANGE, type FolderOptions } from '../data/folder.js';
import { DIFF_AUGMENT_POLICIES, type DiffAugmentPolicy } from '../families/diff-augment.js';
import { intFlag, parseFlags, UsageError } from './flags.js';

export { intFlag, modelIdFlag, parseFlags, UsageError } from './flags.js';

export interface TrainOptions {
  model: string;
  data: string;
  out: string;
  resume: boolean;
  epochs?: number;
  steps?: number;
  batchSize: number;
  seed: number;
  backend: BackendChoice;
  /** Threads for the wasm backend; undefined: every core. */
  threads?: number;
  /** webgpu: the adapter whose name contains this (Dawn lists the adapters when none matches). */
  gpuAdapter?: string;
  /** wasm: convolutions, batch norm and tanh on onnxruntime-node's native kernels ('native'), on wasm's ('wasm'), or native where it loads ('auto'). */
  convKernels?: ConvKernelChoice;
  limit?: number;
  checkpointEvery: number;
  /** Generated images the classifier measures after every epoch and at the end (0: off). */
  evalN: number;
  /** Stop at the end of an epoch whose FCD improved by less than this fraction (over the window of plateauPatience). */
  untilPlateau?: number;
  /** Epochs per plateau window: the best FCD of the last N epochs against the best of the N before. Default 5 (epoch-eval.ts). */
  plateauPatience?: number;
  /** How a folder of images becomes the data set (trainer/data/folder.ts); ignored for IDX data. */
  folder?: FolderOptions;
  /** Training-time augmentation of real images: 'flip' mirrors half of them left-right. Default 'none'. */
  augment?: Augment;
  /** GAN families: decay of the generator's weight average used for samples and export (0: off, the default). */
  ema?: number;
  /** GAN families: DiffAugment policies applied to everything D sees (empty: off, the default). */
  diffAugment?: DiffAugmentPolicy[];
  /** The last N epochs lower every learning rate linearly toward 0 (run/lr-schedule.ts); 0: constant. May change on resume. */
  lrDecayEpochs?: number;
  /** Labelled data: class c drawn in proportion to count_c^P (data/class-balance.ts); 1, the default: as the data has them. May change on resume. */
  classBalance?: number;
  /** Family config values given on the command line. */
  overrides: Record<string, unknown>;
}

export const AUGMENTS = ['none', 'flip'] as const;
export type Augment = (typeof AUGMENTS)[number];

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const COMMON = {
  model: { type: 'string', default: 'dcgan' },
  data: { type: 'string', default: DEFAULT_DATA_DIR },
  out: { type: 'string' },
  resume: { type: 'boolean', default: false },
  epochs: { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string', default: '64' },
  seed: { type: 'string', default: '1' },
  backend: { type: 'string', default: 'auto' },
  threads: { type: 'string' },
  'gpu-adapter': { type: 'string' },
  'conv-kernels': { type: 'string', default: 'auto' },
  limit: { type: 'string' },
  'checkpoint-every': { type: 'string', default: '200' },
  'eval-n': { type: 'string', default: '2000' },
  'until-plateau': { type: 'string' },
  'plateau-patience': { type: 'string', default: '5' },
  'image-size': { type: 'string' },
  channels: { type: 'string' },
  fit: { type: 'string', default: 'crop' },
  background: { type: 'string', default: 'white' },
  labels: { type: 'string' },
  augment: { type: 'string', default: 'none' },
  ema: { type: 'string' },
  'diff-augment': { type: 'string' },
  'lr-decay-epochs': { type: 'string' },
  'class-balance': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

function positiveInt(flag: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got "${value}"`);
  return n;
}

function fraction(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n < 1)) throw new UsageError(`--${flag} must be a number in (0, 1), got "${value}"`);
  return n;
}

/**
 * Parses `value` with the type of `example`: a count (integer default) must be a positive integer, a rate or
 * coefficient (fractional default: learning rates, betas, slopes, momenta) must lie in [0, 1), a weight that is off
 * by default (0) must be >= 0; a number[] is a
 * comma list of positive integers; a string must be one of `choices` when the family lists them.
 */
function typedLike(flag: string, example: unknown, value: string, choices?: readonly string[]): unknown {
  if (typeof example === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${value}"`);
    // A default of 0 means "off" or "as another option" (--r1-gamma, --discriminator-learning-rate): any n >= 0,
    // a learning rate below 1 as the others are.
    if (example === 0 && flag.endsWith('learning-rate') && (n < 0 || n >= 1)) throw new UsageError(`--${flag} must be in [0, 1), got "${value}"`);
    if (example === 0 && n < 0) throw new UsageError(`--${flag} must be a number >= 0, got "${value}"`);
    if (example === 0) return n;
    if (Number.isInteger(example) && (!Number.isInteger(n) || n < 1)) throw new UsageError(`--${flag} must be a positive integer, got "${value}"`);
    if (!Number.isInteger(example) && (n < 0 || n >= 1)) throw new UsageError(`--${flag} must be in [0, 1), got "${value}"`);
    return n;
  }
  if (choices && !choices.includes(value)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  if (Array.isArray(example)) {
    // An empty default list means "any length" (derived when not given: a DCGAN's channels per stage).
    const parts = value.split(',').map(Number);
    const countOk = example.length === 0 ? parts.length >= 1 : parts.length === example.length;
    if (!countOk || parts.some((n) => !Number.isInteger(n) || n < 1)) {
      const what = example.length === 0 ? 'comma-separated positive integers' : `${example.length} comma-separated positive integers (default ${example.join(',')})`;
      throw new UsageError(`--${flag} must be ${what}, got "${value}"`);
    }
    return parts;
  }
  if (typeof example === 'boolean') return value === 'true';
  return value;
}

export function unitInterval(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new UsageError(`--${flag} must be a number in [0, 1], got "${value}"`);
  return n;
}

export function usage(): string {
  const lines = [
    'usage: npm run train -- [--model NAME] [--data DIR] [--epochs N | --steps N] [--out runs/NAME] [--resume]',
    '       [--batch-size 64] [--seed 1] [--backend auto|cuda|tensorflow|webgpu|wasm|cpu] [--threads N (wasm; default: every core)]',
    '       [--gpu-adapter NAME (webgpu: the adapter whose name contains NAME)]',
    '       [--conv-kernels auto|native|wasm (wasm: convolutions, batch norm and tanh on onnxruntime-node\'s native kernels, or wasm\'s; auto: native where it loads)]',
    '       [--limit N] [--checkpoint-every 200]',
    '       [--eval-n 2000 (0: no per-epoch FCD)] [--until-plateau 0.05 (stop when FCD improves less over an epoch)]',
    '       [--plateau-patience 5 (epochs per window: the best FCD of the last N epochs against the N before)]',
    '       [--augment none|flip] [--ema 0.999 (GANs: samples and export from an average of G\'s weights)]',
    `       [--diff-augment ${DIFF_AUGMENT_POLICIES.join(',')} (GANs: DiffAugment, Zhao et al. 2020; any subset)]`,
    '       [--lr-decay-epochs N (the last N epochs lower the learning rates linearly toward 0; 0: constant, the default)]',
    '       [--class-balance P (labelled data: draw class c in proportion to its count^P; 1: as the data has them, the default; 0: equally often)]',
    '  --data DIR: MNIST-style IDX files, or a folder of PNG/JPEG/WebP/GIF images (labels: first-level subfolders):',
    `       [--image-size ${IMAGE_SIZE_RANGE[0]}..${IMAGE_SIZE_RANGE[1]} (default: the images' size if shared, else 64)] [--channels 1|3 (default: 3 if any has colour)]`,
    '       [--fit crop|pad|stretch (crop)] [--background white|black|#rrggbb (white)] [--labels FILE.csv (path,label)]',
    '',
    'family options (defaults shown):',
  ];
  for (const [name, family] of Object.entries(FAMILIES)) {
    lines.push(`  --model ${name}: ${family.description}`);
    for (const [key, value] of Object.entries(family.defaults)) lines.push(`    --${kebab(key)} ${Array.isArray(value) ? value.join(',') || '(derived)' : String(value)}`);
  }
  return lines.join('\n');
}

function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

export function folderOptions(v: Record<string, string | boolean | undefined>): FolderOptions {
  const background = parseBackground(v['background'] as string);
  if (!background) throw new UsageError(`--background must be white, black or #rrggbb, got "${v['background']}"`);
  const channels = v['channels'];
  if (channels !== undefined && channels !== '1' && channels !== '3') throw new UsageError(`--channels must be 1 or 3, got "${channels}"`);
  return {
    fit: oneOf<FitMode>('fit', v['fit'] as string, FIT_MODES),
    background,
    ...(v['image-size'] !== undefined ? { imageSize: intFlag('image-size', v['image-size'] as string, IMAGE_SIZE_RANGE[0], IMAGE_SIZE_RANGE[1]) } : {}),
    ...(channels !== undefined ? { channels: Number(channels) as 1 | 3 } : {}),
    ...(v['labels'] !== undefined ? { labelsFile: v['labels'] as string } : {}),
  };
}

/** Parses argv; returns null when --help was asked for. Throws UsageError with a one-line message. */
export function parseTrainArgs(argv: string[]): TrainOptions | null {
  const familyFlags = new Map<string, { key: string; example: unknown }>();
  for (const family of Object.values(FAMILIES)) {
    for (const [key, example] of Object.entries(family.defaults)) familyFlags.set(kebab(key), { key, example });
  }
  const options = { ...COMMON, ...Object.fromEntries([...familyFlags.keys()].map((f) => [f, { type: 'string' as const }])) };
  const parsed = parseFlags({ args: argv, options, allowPositionals: false });
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v['help']) return null;
  const model = v['model'] as string;
  const family = FAMILIES[model];
  if (!family) throw new UsageError(`--model must be one of ${Object.keys(FAMILIES).join(', ')}, got "${model}"`);
  const backend = v['backend'] as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${backend}"`);
  if (v['epochs'] !== undefined && v['steps'] !== undefined) throw new UsageError('give --epochs or --steps, not both');
  const seed = Number(v['seed']);
  if (!/^\d+$/.test(v['seed'] as string) || !isValidSeed(seed)) throw new UsageError(`--seed must be an integer in [0, 4294967295], got "${v['seed']}"`);

  const overrides: Record<string, unknown> = {};
  for (const [flag, { key, example }] of familyFlags) {
    const value = v[flag];
    if (value === undefined) continue;
    if (!(key in family.defaults)) throw new UsageError(`--${flag} does not apply to --model ${model}`);
    overrides[key] = typedLike(flag, example, value as string, family.choices?.[key]);
  }
  return {
    model,
    data: v['data'] as string,
    out: (v['out'] as string | undefined) ?? `runs/${model}`,
    resume: v['resume'] as boolean,
    ...(v['epochs'] !== undefined ? { epochs: positiveInt('epochs', v['epochs'] as string) } : {}),
    ...(v['steps'] !== undefined ? { steps: positiveInt('steps', v['steps'] as string) } : {}),
    batchSize: positiveInt('batch-size', v['batch-size'] as string)!,
    seed,
    backend,
    ...(v['threads'] !== undefined ? { threads: intFlag('threads', v['threads'] as string, 1, 64) } : {}),
    ...(v['gpu-adapter'] !== undefined ? { gpuAdapter: v['gpu-adapter'] as string } : {}),
    convKernels: oneOf('conv-kernels', v['conv-kernels'] as string, CONV_KERNEL_CHOICES),
    ...(v['limit'] !== undefined ? { limit: positiveInt('limit', v['limit'] as string) } : {}),
    checkpointEvery: positiveInt('checkpoint-every', v['checkpoint-every'] as string)!,
    evalN: v['eval-n'] === '0' ? 0 : positiveInt('eval-n', v['eval-n'] as string, 2)!,
    ...(v['until-plateau'] !== undefined ? { untilPlateau: fraction('until-plateau', v['until-plateau'] as string) } : {}),
    plateauPatience: intFlag('plateau-patience', v['plateau-patience'] as string, 1, 100)!,
    folder: folderOptions(v),
    augment: oneOf('augment', v['augment'] as string, AUGMENTS),
    ...(v['ema'] !== undefined ? { ema: fraction('ema', v['ema'] as string) } : {}),
    ...(v['lr-decay-epochs'] !== undefined ? { lrDecayEpochs: positiveInt('lr-decay-epochs', v['lr-decay-epochs'] as string, 0) } : {}),
    ...(v['class-balance'] !== undefined ? { classBalance: unitInterval('class-balance', v['class-balance'] as string) } : {}),
    ...(v['diff-augment'] !== undefined ? { diffAugment: (v['diff-augment'] as string).split(',').map((p) => oneOf('diff-augment', p, DIFF_AUGMENT_POLICIES)) } : {}),
    overrides,
  };
}
