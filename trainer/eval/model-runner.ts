/** An exported model directory (manifest + graphs) run by onnxruntime-node: what eval measures is what is served. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OrtTensor, openSession, type OrtSession } from '../export/ort-node.js';
import { EvaluationError } from './classifier-runtime.js';
import { nchwToNhwc, nhwcToNchw } from '../../shared/grid.js';
import { TENSOR_NAMES, imageGraphRole, validateManifest, type GraphRole, type Manifest } from '../../shared/manifest.js';

export class ModelRunner {
  private constructor(
    readonly manifest: Manifest,
    private readonly sessions: Partial<Record<GraphRole, OrtSession>>,
  ) {}

  static async load(dir: string): Promise<ModelRunner> {
    let raw: string;
    try {
      raw = await readFile(join(dir, 'manifest.json'), 'utf8');
    } catch {
      throw new EvaluationError(`${dir} has no manifest.json (export a run first: npm run export -- runs/NAME)`);
    }
    const manifest = validateManifest(JSON.parse(raw));
    const sessions: Partial<Record<GraphRole, OrtSession>> = {};
    for (const [role, spec] of Object.entries(manifest.graphs)) {
      const bytes = new Uint8Array(await readFile(join(dir, spec.file)));
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== spec.sha256) throw new EvaluationError(`${dir}/${spec.file}: sha256 ${sha} does not match the manifest`);
      sessions[role as GraphRole] = await openSession(bytes);
    }
    return new ModelRunner(manifest, sessions);
  }

  /**
   * Images [n, h, w, c] (channels interleaved, as the 8-bit images the edge serves and the classifier reads) in the
   * model's pixel range, from latents [n, latentSize] (and class indices if conditional).
   */
  async generate(latents: Float32Array, n: number, labels?: Uint8Array): Promise<Float32Array> {
    const feeds: Record<string, OrtTensor> = { [TENSOR_NAMES.latent]: new OrtTensor('float32', latents, [n, this.manifest.latent.size]) };
    if (this.manifest.classes.count > 0) {
      if (!labels) throw new EvaluationError(`${this.manifest.id} is conditional: labels are required`);
      feeds[TENSOR_NAMES.label] = new OrtTensor('int64', BigInt64Array.from(labels, BigInt), [n]);
    }
    const out = await this.sessions[imageGraphRole(this.manifest.family)]!.run(feeds);
    return nchwToNhwc(out[TENSOR_NAMES.image]!.data as Float32Array, n, this.manifest.image);
  }

  /** A VAE encoder's posterior parameters for images [n, h, w, c] (channels interleaved) in the model's pixel range. */
  async encode(images: Float32Array, n: number): Promise<{ mean: Float32Array; logvar: Float32Array }> {
    const enc = this.sessions.encoder;
    if (!enc) throw new EvaluationError(`${this.manifest.id} has no encoder`);
    const { width, height, channels } = this.manifest.image;
    const out = await enc.run({ [TENSOR_NAMES.image]: new OrtTensor('float32', nhwcToNchw(images, n, this.manifest.image), [n, channels, height, width]) });
    return { mean: out[TENSOR_NAMES.mean]!.data as Float32Array, logvar: out[TENSOR_NAMES.logvar]!.data as Float32Array };
  }

  async release(): Promise<void> {
    for (const s of Object.values(this.sessions)) await s.release();
  }
}
