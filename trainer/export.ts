/**
 * `npm run export -- runs/NAME [--out DIR] [--id ID] [--description TEXT]`: the trained graphs of a run as ONNX
 * plus the manifest (shared/manifest.ts), each graph checked against tfjs with onnxruntime-node before anything
 * is written. Writing under models/ also refreshes the worker's bundle list (models/bundled.ts).
 */
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { selectBackend } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import { runCli } from './cli-main.js';
import { UsageError } from './cli-options.js';
import { FAMILIES } from './families.js';
import { restoreRun, type RunMeta } from './run-state.js';
import { writeFileAtomic } from './fs-atomic.js';
import { networkToOnnx } from './export/onnx-graph.js';
import { serializeModel, type ValueInfo } from './export/onnx-model.js';
import { checkParity, ExportError, toNchw, type Feed } from './export/verify.js';
import { oneHot } from './one-hot.js';
import { writeBundleIndex, MODELS_DIR } from './export/bundle-index.js';
import { MANIFEST_SCHEMA_VERSION, TENSOR_NAMES, validateManifest, type GraphSpec, type Manifest, type TensorSpec } from '../shared/manifest.js';
import { latentsForSeed } from '../shared/latent.js';
import { bytesToPixels } from '../shared/pixels.js';
import { SeededRandom } from '../shared/rng.js';

export const PARITY_TOLERANCE = 1e-4;
const PARITY_COUNT = 64;
const PARITY_SEED = 20260101;

export interface ExportOptions {
  run: string;
  out?: string;
  id?: string;
  description?: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function exportRun(opts: ExportOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ dir: string; manifest: Manifest }> {
  const ckpt = await loadCheckpoint<RunMeta>(opts.run, log);
  if (!ckpt) throw new UsageError(`${opts.run} holds no checkpoint (train first: npm run train -- --out ${opts.run})`);
  const meta = ckpt.meta;
  const family = FAMILIES[meta.family];
  if (!family) throw new ExportError(`${opts.run}: unknown model family "${meta.family}"`);
  const id = opts.id ?? basename(resolve(opts.run)).toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const outDir = opts.out ?? join(MODELS_DIR, id);
  await selectBackend('auto');

  const model = family.create(meta.config, { image: meta.image, classCount: meta.classNames.length }, new SeededRandom(meta.seed));
  await restoreRun(model, ckpt, true);
  const latent = family.latent(meta.config);
  const { width, height, channels } = meta.image;
  const imageSpec = (name: string): TensorSpec => ({ name, dtype: 'float32', shape: ['batch', channels, height, width] });

  const graphs: Manifest['graphs'] = {};
  const files: [string, Uint8Array][] = [];
  for (const exp of model.exports) {
    const inputName = exp.input === 'latent' ? TENSOR_NAMES.latent : TENSOR_NAMES.image;
    const inputSpec: TensorSpec = exp.input === 'latent' ? { name: inputName, dtype: 'float32', shape: ['batch', latent.size] } : imageSpec(inputName);
    const outNames = exp.outputs;
    const outputSpecs: TensorSpec[] = outNames.map((name) => (name === TENSOR_NAMES.image ? imageSpec(name) : { name, dtype: 'float32', shape: ['batch', latent.size] }));
    const internalOut = outNames.length === 1 ? outNames[0]! : `${exp.role}/joint`;
    const k = exp.classCount ?? 0;
    const networkInput = k > 0 ? `${exp.role}/input` : inputName;
    const part = networkToOnnx(exp.network.spec, await exp.network.snapshot(), networkInput, internalOut, exp.role);
    const inputs = [inputSpec];
    if (k > 0) {
      // Conditional generator: an int64 class index, one-hot by a lookup in the identity matrix, after z.
      inputs.push({ name: TENSOR_NAMES.label, dtype: 'int64', shape: ['batch'] });
      const eye = new Float32Array(k * k).map((_, i) => (i % (k + 1) === 0 ? 1 : 0));
      part.initializers.push({ name: `${exp.role}/eye`, dims: [k, k], data: eye });
      part.nodes.unshift(
        { op: 'Gather', inputs: [`${exp.role}/eye`, TENSOR_NAMES.label], outputs: [`${exp.role}/onehot`], attrs: { axis: { i: 0 } } },
        { op: 'Concat', inputs: [inputName, `${exp.role}/onehot`], outputs: [networkInput], attrs: { axis: { i: 1 } } },
      );
    }
    if (outNames.length > 1) part.nodes.push({ op: 'Split', inputs: [internalOut], outputs: outNames, attrs: { axis: { i: 1 } } });
    const toValueInfo = (t: TensorSpec): ValueInfo => ({ name: t.name, dtype: t.dtype, shape: t.shape });
    const bytes = serializeModel({ name: `${id}-${exp.role}`, ...part, inputs: inputs.map(toValueInfo), outputs: outputSpecs.map(toValueInfo) }, 'edge-generative exporter');

    // Self-check on seeded inputs: latents as served (every class in turn for a conditional model), or
    // seeded images for an encoder.
    let parity;
    if (exp.input === 'latent') {
      const z = latentsForSeed(PARITY_SEED, PARITY_COUNT, latent.size, latent.distribution);
      const feeds: Record<string, Feed> = { [inputName]: { dtype: 'float32', data: z, dims: [PARITY_COUNT, latent.size] } };
      let tfInput = { data: z, shape: [PARITY_COUNT, latent.size] };
      if (k > 0) {
        const labels = new Uint8Array(PARITY_COUNT).map((_, i) => i % k);
        feeds[TENSOR_NAMES.label] = { dtype: 'int64', data: BigInt64Array.from(labels, BigInt), dims: [PARITY_COUNT] };
        const code = oneHot(labels, k);
        const joined = new Float32Array(PARITY_COUNT * (latent.size + k));
        for (let i = 0; i < PARITY_COUNT; i++) {
          joined.set(z.subarray(i * latent.size, (i + 1) * latent.size), i * (latent.size + k));
          joined.set(code.subarray(i * k, (i + 1) * k), i * (latent.size + k) + latent.size);
        }
        tfInput = { data: joined, shape: [PARITY_COUNT, latent.size + k] };
      }
      parity = await checkParity(bytes, exp.network, feeds, tfInput, outNames, PARITY_TOLERANCE);
    } else {
      const images = { data: seededImages(PARITY_COUNT * width * height * channels, family.pixelRange), shape: [PARITY_COUNT, height, width, channels] };
      const feeds = { [inputName]: { dtype: 'float32' as const, data: await toNchw(images), dims: [PARITY_COUNT, channels, height, width] } };
      parity = await checkParity(bytes, exp.network, feeds, images, outNames, PARITY_TOLERANCE);
    }
    log(`${exp.role}: ${(bytes.length / 1024).toFixed(0)} KiB, parity with tfjs on ${parity.count} inputs: max |diff| = ${parity.maxAbsDiff.toExponential(2)}`);

    const spec: GraphSpec = { file: `${exp.role}.onnx`, sha256: sha256(bytes), inputs, outputs: outputSpecs };
    graphs[exp.role] = spec;
    files.push([spec.file, bytes]);
  }

  const manifest = validateManifest({
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    id,
    family: family.name,
    // Content-addressed: the same weights always get the same version, new weights a new one.
    version: sha256(new TextEncoder().encode(Object.values(graphs).map((g) => g.sha256).join(''))).slice(0, 12),
    createdAt: new Date().toISOString(),
    description: opts.description ?? `${family.description}, trained on ${meta.dataset}`,
    latent,
    classes: { count: family.name === 'cgan' ? meta.classNames.length : 0, labels: family.name === 'cgan' ? meta.classNames : [] },
    image: { width, height, channels, pixelRange: family.pixelRange },
    graphs,
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

  // Graphs first, manifest last: a directory with a manifest always has the graphs it names.
  for (const [file, bytes] of files) await writeFileAtomic(join(outDir, file), bytes);
  await writeFileAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`wrote ${outDir}/manifest.json (${manifest.id} version ${manifest.version})`);
  if (resolve(outDir).startsWith(resolve(MODELS_DIR))) await writeBundleIndex(MODELS_DIR, log);
  for (const net of Object.values(model.networks)) net.dispose();
  return { dir: outDir, manifest };
}

/** Deterministic images for an encoder's parity check: smooth blobs, not just noise. */
function seededImages(n: number, range: '-1..1' | '0..1'): Float32Array {
  const rng = new SeededRandom(PARITY_SEED);
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = rng.nextInt(256);
  return bytesToPixels(bytes, range);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCli(async () => {
    let parsed;
    try {
      parsed = parseArgs({ args: process.argv.slice(2), allowPositionals: true, strict: true, options: { out: { type: 'string' }, id: { type: 'string' }, description: { type: 'string' } } });
    } catch (err) {
      throw new UsageError((err as Error).message.split('\n')[0]!);
    }
    if (parsed.positionals.length !== 1) throw new UsageError('usage: npm run export -- runs/NAME [--out DIR] [--id ID] [--description TEXT]');
    const { out, id, description } = parsed.values;
    if (id !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new UsageError(`--id must be lowercase letters, digits and '-', got "${id}"`);
    await exportRun({ run: parsed.positionals[0]!, ...(out ? { out } : {}), ...(id ? { id } : {}), ...(description ? { description } : {}) });
  });
}
