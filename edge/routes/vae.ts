/**
 * POST encode and reconstruct, for VAEs: a PNG of exactly the model's size goes in (grayscale, or RGB/RGBA
 * turned into gray by ITU-R BT.601 luma for a one-channel model; alpha is ignored), and the posterior
 * q(z|x) = N(mean, exp(logvar)) or the decoded posterior mean comes out.
 */
import { Hono } from 'hono';
import { bytesToPixels } from '../../shared/pixels.js';
import { decodePng, encodePng, type RasterImage } from '../../shared/png.js';
import type { Manifest } from '../../shared/manifest.js';
import { readBody } from '../body.js';
import { HttpError } from '../errors.js';
import { latentsToImages } from '../generate.js';
import type { ModelRegistry, ServedModel } from '../model-registry.js';
import { readQuery } from '../params.js';
import { uncachedPng } from '../responses.js';

/** The PNG body as the encoder's input: NCHW floats in the model's pixel range. */
export function pngToInput(body: Uint8Array, m: Manifest): Float32Array {
  let img: RasterImage;
  try {
    // The model's size as the limit: a small body that inflates to a huge image is refused before inflating.
    img = decodePng(body, m.image.width * m.image.height);
  } catch (err) {
    throw new HttpError(400, 'invalid_body', `body is not a usable PNG: ${(err as Error).message}`);
  }
  const { width, height, channels } = m.image;
  if (img.width !== width || img.height !== height) throw new HttpError(400, 'invalid_body', `image must be ${width}x${height} pixels, got ${img.width}x${img.height}`, { width, height });
  let bytes: Uint8Array;
  if (img.channels === channels) bytes = img.data;
  else if (channels === 1) {
    bytes = new Uint8Array(width * height);
    for (let p = 0; p < bytes.length; p++) {
      const o = p * img.channels;
      bytes[p] = Math.round(0.299 * img.data[o]! + 0.587 * img.data[o + 1]! + 0.114 * img.data[o + 2]!);
    }
  } else throw new HttpError(400, 'invalid_body', `image must have ${channels} channels, got ${img.channels}`);
  const interleaved = bytesToPixels(bytes, m.image.pixelRange);
  if (channels === 1) return interleaved;
  const nchw = new Float32Array(interleaved.length);
  for (let p = 0; p < width * height; p++) for (let ch = 0; ch < channels; ch++) nchw[ch * width * height + p] = interleaved[p * channels + ch]!;
  return nchw;
}

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

  const vaeModel = (id: string): ServedModel => {
    const entry = registry.get(id);
    if (!entry.manifest.graphs.encoder) throw new HttpError(400, 'not_supported', `model "${id}" is a ${entry.manifest.family} with no encoder; encode and reconstruct need a vae`);
    return entry;
  };

  app.post('/:id/encode', async (c) => {
    const entry = vaeModel(c.req.param('id'));
    readQuery(c, []);
    const { mean, logvar } = await encode(registry, entry, pngToInput(await readBody(c, 'image/png'), entry.manifest));
    return c.json({ model: entry.id, version: entry.manifest.version, mean: Array.from(mean), logvar: Array.from(logvar) }, 200, { 'Cache-Control': 'no-store', 'X-Model-Version': entry.manifest.version });
  });

  app.post('/:id/reconstruct', async (c) => {
    const entry = vaeModel(c.req.param('id'));
    readQuery(c, []);
    const m = entry.manifest;
    const { mean } = await encode(registry, entry, pngToInput(await readBody(c, 'image/png'), m));
    const pixels = await latentsToImages(m, await registry.session(entry), mean, 1);
    const png = encodePng({ width: m.image.width, height: m.image.height, channels: m.image.channels, data: pixels });
    return uncachedPng({ png }, m.version);
  });

  return app;
}
