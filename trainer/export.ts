/**
 * `npm run export -- runs/NAME [--out DIR] [--id ID] [--description TEXT] [--best] [--replace]`: the trained graphs of a run
 * as ONNX plus the manifest (shared/manifest.ts), each graph checked against tfjs with onnxruntime-node before
 * anything is written. Writing under models/ keeps the version it replaces for its pinned URLs (export/retire.ts)
 * and refreshes the worker's bundle list (edge/registry/bundled.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectBackend } from './backend/select.js';
import { loadBestCheckpoint, loadCheckpoint } from './run/checkpoint.js';
import { runCli } from './cli/main.js';
import { modelIdFlag, parseFlags, UsageError } from './cli/options.js';
import { FAMILIES } from './families/index.js';
import { familyContext, restoreRun, type RunMeta } from './run/run-state.js';
import { writeFileAtomic } from './run/atomic.js';
import { buildGraph, parityInputs, type GraphContext } from './export/graph-for.js';
import { checkParity, ExportError } from './export/verify.js';
import { writeBundleIndex, MODELS_DIR } from './export/bundle-index.js';
import { retirePrevious } from './export/retire.js';
import { MANIFEST_SCHEMA_VERSION, validateManifest, type GraphSpec, type Manifest } from '../shared/manifest.js';
import { SeededRandom } from '../shared/rng.js';
import { contentVersion } from '../shared/content-version.js';
import { formatBackground } from '../shared/preprocess.js';
import { rulerDir } from './eval/classifier-card.js';

export const PARITY_TOLERANCE = 1e-4;
const PARITY_COUNT = 64;
const PARITY_SEED = 20260101;

export interface ExportOptions {
  run: string;
  out?: string;
  id?: string;
  description?: string;
  /** Under models/: drop the previous version instead of keeping it for its pinned URLs. */
  replace?: boolean;
  /** The epoch with the lowest per-epoch FCD (checkpoint.best.bin) instead of the last checkpoint. */
  best?: boolean;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function exportRun(opts: ExportOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ dir: string; manifest: Manifest }> {
  const ckpt = opts.best ? await loadBestCheckpoint<RunMeta>(opts.run) : await loadCheckpoint<RunMeta>(opts.run, log);
  if (!ckpt && opts.best) throw new UsageError(`${opts.run} kept no best epoch (its runs had no per-epoch FCD: a ruler of the data and --eval-n > 0); export its last checkpoint without --best`);
  if (!ckpt) throw new UsageError(`${opts.run} holds no checkpoint (train first: npm run train -- --out ${opts.run})`);
  if (opts.best) log(`the best epoch's checkpoint: step ${ckpt.meta.step}`);
  const meta = ckpt.meta;
  const family = FAMILIES[meta.family];
  if (!family) throw new ExportError(`${opts.run}: unknown model family "${meta.family}"`);
  const id = opts.id ?? basename(resolve(opts.run)).toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const outDir = opts.out ?? join(MODELS_DIR, id);
  await selectBackend('auto');

  const model = family.create(meta.config, familyContext(meta), new SeededRandom(meta.seed));
  await restoreRun(model, ckpt, true);
  const latent = family.latent(meta.config);
  const ctx: GraphContext = { modelId: id, latent, image: meta.image, pixelRange: family.pixelRange };

  const graphs: Manifest['graphs'] = {};
  const files: [string, Uint8Array][] = [];
  for (const exp of model.exports) {
    const { bytes, inputs, outputs } = await buildGraph(exp, ctx);
    const { feeds, tfInput } = await parityInputs(exp, ctx, PARITY_COUNT, PARITY_SEED);
    const parity = await checkParity(bytes, exp.network, feeds, tfInput, exp.outputs, PARITY_TOLERANCE);
    log(`${exp.role}: ${(bytes.length / 1024).toFixed(0)} KiB, parity with tfjs on ${parity.count} inputs: max |diff| = ${parity.maxAbsDiff.toExponential(2)}`);
    const spec: GraphSpec = { file: `${exp.role}.onnx`, sha256: sha256(bytes), inputs, outputs };
    graphs[exp.role] = spec;
    files.push([spec.file, bytes]);
  }
  const classCount = Math.max(0, ...model.exports.map((e) => e.classCount ?? 0));
  const { width, height, channels } = meta.image;

  const manifest = validateManifest({
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    id,
    family: family.name,
    // Content-addressed (shared/content-version.ts, which the upload route checks): the same weights always get the
    // same version, new weights a new one.
    version: await contentVersion(graphs),
    createdAt: new Date().toISOString(),
    description: opts.description ?? `${family.description}, trained on ${meta.dataset}`,
    latent,
    classes: { count: classCount, labels: classCount > 0 ? meta.classNames.slice(0, classCount) : [] },
    image: { width, height, channels, pixelRange: family.pixelRange, ...(meta.preprocess ? { preprocess: { fit: meta.preprocess.fit, background: formatBackground(meta.preprocess.background) } } : {}) },
    graphs,
    // A data set without a ruler gets no FCD at all, rather than one measured with another data set's classifier.
    ...(existsSync(join(rulerDir(meta.dataset), 'classifier.json')) ? {} : { evaluationNote: `FCD needs a ruler: ${meta.dataset.split('/')[0]} has none (npm run classifier -- --data DIR, on labelled data)` }),
    training: {
      dataset: meta.dataset,
      steps: meta.step,
      epochs: Math.floor(meta.batchesSeen / Math.floor(meta.datasetSize / meta.batchSize)),
      batchSize: meta.batchSize,
      wallTimeSeconds: Math.round(meta.wallTimeSeconds),
      backend: meta.backend,
      finalLosses: meta.losses,
      seed: meta.seed,
      config: meta.config,
    },
  } satisfies Manifest);

  // A bundled model's previous version keeps serving its pinned URLs (export/retire.ts) unless --replace says not to.
  const bundled = resolve(outDir).startsWith(resolve(MODELS_DIR) + sep);
  if (bundled && !opts.replace) await retirePrevious(outDir, manifest.version, log);
  // Graphs first, manifest last: a directory with a manifest always has the graphs it names.
  for (const [file, bytes] of files) await writeFileAtomic(join(outDir, file), bytes);
  await writeFileAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`wrote ${outDir}/manifest.json (${manifest.id} version ${manifest.version})`);
  if (bundled) await writeBundleIndex(MODELS_DIR, log);
  for (const net of Object.values(model.networks)) net.dispose();
  return { dir: outDir, manifest };
}

const EXPORT_USAGE = 'usage: npm run export -- runs/NAME [--out DIR] [--id ID] [--description TEXT] [--best (the epoch with the lowest per-epoch FCD)] [--replace (under models/: drop the version there instead of keeping it for its pinned URLs)]';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCli(async () => {
    const parsed = parseFlags({ args: process.argv.slice(2), allowPositionals: true, options: { out: { type: 'string' }, id: { type: 'string' }, description: { type: 'string' }, best: { type: 'boolean' }, replace: { type: 'boolean' } } });
    if (parsed.positionals.length !== 1) throw new UsageError(EXPORT_USAGE);
    const { out, description } = parsed.values;
    const id = modelIdFlag(parsed.values.id);
    await exportRun({ run: parsed.positionals[0]!, ...(out ? { out } : {}), ...(id ? { id } : {}), ...(description ? { description } : {}), replace: parsed.values.replace === true, best: parsed.values.best === true });
  }, EXPORT_USAGE);
}
