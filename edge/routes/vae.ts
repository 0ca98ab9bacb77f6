/**
 * POST encode and reconstruct, for VAEs: a PNG or JPEG of at most MAX_UPLOAD_PIXELS pixels goes in, preprocessed as
 * the model's training images were (upload.ts), and the posterior q(z|x) = N(mean, exp(logvar)) or the decoded
 * posterior mean comes out.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { encodePng } from '../../shared/png.js';
import { upscaleNearest } from '../../shared/grid.js';
import { EncodeResponse, errorResponses, ModelParams, NoQuery, PngQuery, pngContent } from '../api/schemas.js';
import { rejectInvalid } from '../http/validation.js';
import { scaleWithin } from './render.js';
import { readBody, requireType } from '../http/body.js';
import { uploadToInput, UPLOAD_TYPES } from '../inference/upload.js';
import { HttpError } from '../api/errors.js';
import { latentsToImages } from '../inference/generate.js';
import type { ModelRegistry, ServedModel } from '../registry/registry.js';
import { uncachedPng } from '../http/responses.js';

async function encode(registry: ModelRegistry, entry: ServedModel, input: Float32Array): Promise<{ mean: Float32Array; logvar: Float32Array }> {
  const m = entry.manifest;
  const spec = m.graphs.encoder!;
  const { width, height, channels } = m.image;
  const out = await (await registry.session(entry, 'encoder')).run({ [spec.inputs[0]!.name]: { dtype: 'float32', data: input, dims: [1, channels, height, width] } });
  const [mean, logvar] = spec.outputs.map((o) => out[o.name]!.data);
  return { mean: mean!, logvar: logvar! };
}

const upload = {
  required: true,
  description: "A PNG or JPEG of at most 2048 x 2048 pixels and 1 MiB (every PNG colour type, bit depth and interlacing), preprocessed as the model's training images (manifest image.preprocess).",
  content: Object.fromEntries(UPLOAD_TYPES.map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }])),
};
const encodeRoute = createRoute({
  method: 'post',
  path: '/{id}/encode',
  summary: 'VAE: the posterior of an image',
  request: { params: ModelParams, query: NoQuery, body: upload },
  responses: { 200: { description: 'Posterior mean and log-variance', content: { 'application/json': { schema: EncodeResponse } } }, ...errorResponses },
});
const reconstructRoute = createRoute({
  method: 'post',
  path: '/{id}/reconstruct',
  summary: 'VAE: the decoded posterior mean of an image',
  request: { params: ModelParams, query: PngQuery, body: upload },
  responses: { 200: { description: 'The reconstruction', content: pngContent }, ...errorResponses },
});

export function vaeRoutes(registry: ModelRegistry) {
  const vaeModel = async (id: string): Promise<ServedModel> => {
    const entry = await registry.resolve(id);
    if (!entry.manifest.graphs.encoder) throw new HttpError(400, 'not_supported', `model "${id}" is a ${entry.manifest.family} with no encoder; encode and reconstruct need a vae`);
    return entry;
  };

  return new OpenAPIHono()
    .openapi(encodeRoute, async (c) => {
      const entry = await vaeModel(c.req.valid('param').id);
      const type = requireType(c, UPLOAD_TYPES);
      const { mean, logvar } = await encode(registry, entry, uploadToInput(await readBody(c, UPLOAD_TYPES), type, entry.manifest));
      return c.json({ model: entry.id, version: entry.manifest.version, mean: Array.from(mean), logvar: Array.from(logvar) }, 200, { 'Cache-Control': 'no-store', 'X-Model-Version': entry.manifest.version });
    }, rejectInvalid(NoQuery))
    .openapi(reconstructRoute, async (c) => {
      const entry = await vaeModel(c.req.valid('param').id);
      const m = entry.manifest;
      const scale = scaleWithin(c.req.valid('query').scale, m.image.width, m.image.height);
      const type = requireType(c, UPLOAD_TYPES);
      const { mean } = await encode(registry, entry, uploadToInput(await readBody(c, UPLOAD_TYPES), type, m));
      const pixels = await latentsToImages(m, await registry.session(entry), mean, 1);
      const png = encodePng(upscaleNearest({ width: m.image.width, height: m.image.height, channels: m.image.channels, data: pixels }, scale));
      return uncachedPng({ png }, m.version);
    }, rejectInvalid(PngQuery));
}
