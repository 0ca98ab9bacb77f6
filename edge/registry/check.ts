/**
 * What an uploaded version must pass before it is stored: the manifest schema, the id and version of the URL, a
 * version that is the content hash of its graphs (shared/content-version.ts), exactly the files the manifest names with their sha256, and, for each graph, a session that opens in the
 * serving runtime and a smoke inference whose outputs have the declared shapes and finite values. Every failure
 * is a 422 saying which check failed; nothing is written before all of them pass.
 */
import { fillLatent } from '../../shared/latent.js';
import { ManifestError, imageGraphRole, validateManifest, type GraphRole, type Manifest, type TensorSpec } from '../../shared/manifest.js';
import { SeededRandom } from '../../shared/rng.js';
import { HttpError } from '../api/errors.js';
import { sha256Hex } from '../../shared/hash.js';
import { contentVersion } from '../../shared/content-version.js';
import type { InferenceRuntime, InferenceSession, RuntimeTensor } from '../../shared/runtime.js';
import { maxImages } from '../api/limits.js';
import { MAX_IMAGE_VALUES, MAX_LATENT_SIZE } from '../api/limits.js';

/**
 * Batch sizes of the smoke inferences: 1 (sample.png, and the encoder's only batch), 2 (a graph that ignores its
 * batch dimension is caught), and the largest batch the routes feed this model (maxImages), so a version that
 * would run out of memory on a full grid is refused at upload, not at the first grid request.
 */
const smokeBatches = (m: Manifest, role: GraphRole) => (role === 'encoder' ? [1, 2] : [...new Set([1, 2, maxImages(m)])]);


export interface SmokeResult {
  role: GraphRole;
  /** The batch sizes run. */
  batches: number[];
  /** Output name -> shape produced at the largest batch. */
  outputs: Record<string, number[]>;
  ms: number;
}

function invalid(message: string): HttpError {
  return new HttpError(422, 'invalid_model', message);
}

/** Inputs for one smoke inference: latents drawn as serving draws them, labels cycling over the classes. */
function smokeFeeds(m: Manifest, inputs: TensorSpec[], batch: number): Record<string, RuntimeTensor> {
  const rng = new SeededRandom(1);
  const feeds: Record<string, RuntimeTensor> = {};
  for (const spec of inputs) {
    const dims = spec.shape.map((d) => (d === 'batch' ? batch : d));
    const count = dims.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'int64') {
      feeds[spec.name] = { dtype: 'int64', data: BigInt64Array.from({ length: count }, (_, i) => BigInt(i % Math.max(1, m.classes.count))), dims };
    } else {
      // The latent input gets the model's latent distribution; any other float input (an encoder's image) noise in [0, 1).
      const data = spec.shape.length === 2 && dims[1] === m.latent.size ? fillLatent(rng, m.latent.distribution, new Float32Array(count)) : Float32Array.from({ length: count }, () => rng.nextFloat());
      feeds[spec.name] = { dtype: 'float32', data, dims };
    }
  }
  return feeds;
}

async function smoke(m: Manifest, role: GraphRole, graph: Uint8Array, runtime: InferenceRuntime): Promise<SmokeResult> {
  const spec = m.graphs[role]!;
  let session: InferenceSession;
  try {
    session = await runtime.createSession(graph);
  } catch (err) {
    throw invalid(`${spec.file} does not open in ${runtime.name}: ${(err as Error).message}`);
  }
  try {
    // The graph's own tensors must be exactly those the manifest declares.
    const sameNames = (declared: TensorSpec[], real: readonly string[] | undefined, what: string) => {
      if (real && [...real].sort().join() !== declared.map((t) => t.name).sort().join()) {
        throw invalid(`${spec.file}: the graph's ${what} are [${real.join(', ')}], the manifest declares [${declared.map((t) => t.name).join(', ')}]`);
      }
    };
    sameNames(spec.inputs, session.inputNames, 'inputs');
    sameNames(spec.outputs, session.outputNames, 'outputs');
    const t0 = performance.now();
    const outputs: Record<string, number[]> = {};
    for (const batch of smokeBatches(m, role)) {
      let result: Awaited<ReturnType<InferenceSession['run']>>;
      try {
        result = await session.run(smokeFeeds(m, spec.inputs, batch));
      } catch (err) {
        throw invalid(`${spec.file}: smoke inference at batch ${batch} failed: ${(err as Error).message}`);
      }
      for (const out of spec.outputs) {
        const t = result[out.name];
        if (!t) throw invalid(`${spec.file}: smoke inference gave no output "${out.name}" (got ${Object.keys(result).join(', ') || 'none'})`);
        const want = out.shape.map((d) => (d === 'batch' ? batch : d));
        if (t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) {
          throw invalid(`${spec.file}: output "${out.name}" has shape [${t.dims.join(', ')}], the manifest says [${want.join(', ')}]`);
        }
        const bad = t.data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw invalid(`${spec.file}: output "${out.name}" has a non-finite value (${t.data[bad]}) at index ${bad}`);
        outputs[out.name] = [...t.dims];
      }
      if (role === imageGraphRole(m.family)) {
        const { width, height, channels } = m.image;
        const got = result[spec.outputs[0]!.name]!.data.length;
        if (got !== batch * width * height * channels) throw invalid(`${spec.file}: ${got} output values for ${batch} images of ${channels}x${height}x${width}`);
      }
    }
    return { role, batches: smokeBatches(m, role), outputs, ms: Math.round((performance.now() - t0) * 100) / 100 };
  } finally {
    await session.release?.();
  }
}

/**
 * Checks an upload for model `id`, version `version`: `manifest` as parsed JSON, `files` by name. Returns the typed
 * manifest and one smoke result per graph, or throws a 422 HttpError.
 */
export async function checkUpload(id: string, version: string, manifest: unknown, files: Map<string, Uint8Array>, runtime: InferenceRuntime): Promise<{ manifest: Manifest; smoke: SmokeResult[] }> {
  let m: Manifest;
  try {
    m = validateManifest(manifest);
  } catch (err) {
    if (err instanceof ManifestError) throw invalid(err.message);
    throw err;
  }
  if (m.id !== id) throw invalid(`manifest.id is "${m.id}" but the URL names model "${id}"`);
  const values = m.image.width * m.image.height * m.image.channels;
  if (values > MAX_IMAGE_VALUES) throw invalid(`manifest.image is ${m.image.width}x${m.image.height}x${m.image.channels}: at most ${MAX_IMAGE_VALUES} values per image are served`);
  if (m.latent.size > MAX_LATENT_SIZE) throw invalid(`manifest.latent.size is ${m.latent.size}: at most ${MAX_LATENT_SIZE} is served`);
  if (m.version !== version) throw invalid(`manifest.version is "${m.version}" but the URL names version "${version}"`);
  const named = Object.values(m.graphs).map((g) => g.file);
  const extra = [...files.keys()].filter((f) => !named.includes(f));
  if (extra.length > 0) throw invalid(`files not named by the manifest: ${extra.join(', ')} (expected ${named.join(', ')})`);
  for (const role of Object.keys(m.graphs) as GraphRole[]) {
    const spec = m.graphs[role]!;
    const bytes = files.get(spec.file);
    if (!bytes) throw invalid(`missing graph file ${spec.file} (manifest.graphs.${role})`);
    const digest = await sha256Hex(bytes);
    if (digest !== spec.sha256) throw invalid(`${spec.file} has sha256 ${digest}, the manifest says ${spec.sha256}`);
  }
  // Versions are content (shared/content-version.ts): a name the exporter would give other graphs is refused.
  const content = await contentVersion(m.graphs);
  if (m.version !== content) throw invalid(`version "${m.version}" is not the content of its graphs: these graphs are version "${content}" (shared/content-version.ts; npm run export names versions so)`);
  const results: SmokeResult[] = [];
  for (const role of Object.keys(m.graphs) as GraphRole[]) results.push(await smoke(m, role, files.get(m.graphs[role]!.file)!, runtime));
  return { manifest: m, smoke: results };
}
