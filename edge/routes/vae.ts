/**
 * POST encode and reconstruct, for VAEs: a PNG or JPEG of any size up to MAX_UPLOAD_PIXELS goes in, preprocessed as
 * the model's training images were (upload.ts), and the posterior q(z|x) = N(mean, exp(logvar)) or the decoded
 * posterior mean comes out.
 */
import { Hono } from 'hono';
import { encodePng } from '../../shared/png.js';
import { upscaleNearest } from '../../shared/grid.js';
import { QUERIES } from '../query-schema.js';
import { scaleParam } from './shared.js';
import { readBody, requireType } from '../body.js';
import { uploadToInput, UPLOAD_TYPES } from '../upload.js';
import { HttpError } from '../errors.js';
import { latentsToImages } from '../generate.js';
import type { ModelRegistry, ServedModel } from '../model-registry.js';
import { readQuery } from '../params.js';
import { uncachedPng } from '../responses.js';

async function encode(registry: ModelRegistry, entry: ServedModel, input: Float32Array): Promise<{ mean: Float32Array; logvar: Float32Array }> {
  const m = entry.manifest;
  const spec = m.graphs.encoder!;
  const { width, height, channels } = m.image;
  const out = await (await registry.session(entry, 'encoder')).run({ [spec.inputs[0]!.name]: { dtype: 'float32', data: input, dims: [1, channels, height, width] } });
  const [mean, logvar] = spec.outputs.map((o) => out[o.name]!.data);
  return { mean: mean!, logvar: logvar! };
}

export function vaeRoutes(registry: ModelRegistry): Hono {
  const app = new Hono();

  const vaeModel = async (id: string): Promise<ServedModel> => {
    const entry = await registry.resolve(id);
    if (!entry.manifest.graphs.encoder) throw new HttpError(400, 'not_supported', `model "${id}" is a ${entry.manifest.family} with no encoder; encode and reconstruct need a vae`);
    return entry;
  };

  app.post('/:id/encode', async (c) => {
    const entry = await vaeModel(c.req.param('id'));
    readQuery(c, []);
    const type = requireType(c, UPLOAD_TYPES);
    const { mean, logvar } = await encode(registry, entry, uploadToInput(await readBody(c, UPLOAD_TYPES), type, entry.manifest));
    return c.json({ model: entry.id, version: entry.manifest.version, mean: Array.from(mean), logvar: Array.from(logvar) }, 200, { 'Cache-Control': 'no-store', 'X-Model-Version': entry.manifest.version });
  });

  app.post('/:id/reconstruct', async (c) => {
    const entry = await vaeModel(c.req.param('id'));
    const m = entry.manifest;
    const scale = scaleParam(readQuery(c, Object.keys(QUERIES.png)), m.image.width, m.image.height);
    const type = requireType(c, UPLOAD_TYPES);
    const { mean } = await encode(registry, entry, uploadToInput(await readBody(c, UPLOAD_TYPES), type, m));
    const pixels = await latentsToImages(m, await registry.session(entry), mean, 1);
    const png = encodePng(upscaleNearest({ width: m.image.width, height: m.image.height, channels: m.image.channels, data: pixels }, scale));
    return uncachedPng({ png }, m.version);
  });

  return app;
}
