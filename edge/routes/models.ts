/** GET /v1/models and /v1/models/{id}: what clients may know of each model, to pick one. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { GRAPH_ROLES, type Manifest } from '../../shared/manifest.js';
import { cacheControl } from '../http/responses.js';
import { HttpError } from '../api/errors.js';
import { unavailable, type ModelRegistry } from '../registry/registry.js';
import { DEFAULT_GRID_SIZE, errorResponses, ModelParams, ModelResponse, NoQuery } from '../api/schemas.js';
import { rejectInvalid } from '../http/validation.js';

/** A manifest without file names, hashes or the training config. */
export function publicModel(m: Manifest, origin: string) {
  const { config: _config, ...training } = m.training;
  const self = `${origin}/v1/models/${m.id}`;
  // Version-pinned: the bytes at these URLs never change, whatever is activated later (embed these).
  const pinned = `${self}@${m.version}`;
  const cls = m.classes.count > 0 ? '&class=0' : '';
  return {
    id: m.id,
    family: m.family,
    version: m.version,
    createdAt: m.createdAt,
    description: m.description,
    latent: m.latent,
    classes: m.classes,
    image: m.image,
    canEncode: Boolean(m.graphs.encoder),
    training,
    // The model card's numbers (npm run eval), null until the model has been measured.
    evaluation: m.evaluation ?? null,
    ...(m.evaluationNote ? { evaluationNote: m.evaluationNote } : {}),
    links: {
      sample: `${self}/sample.png?seed=1${cls}`,
      grid: `${self}/grid.png?seed=1&n=${DEFAULT_GRID_SIZE}`,
      interpolate: `${self}/interpolate.png?from=1&to=2&steps=8${cls}`,
      ...Object.fromEntries(Object.keys(m.graphs).map((role) => [`${role}Graph`, `${pinned}/graphs/${role}.onnx`])),
      pinnedSample: `${pinned}/sample.png?seed=1${cls}`,
      pinnedGrid: `${pinned}/grid.png?seed=1&n=${DEFAULT_GRID_SIZE}`,
    },
  };
}

const listRoute = createRoute({
  method: 'get',
  path: '/',
  summary: 'The models, with their model cards',
  request: { query: NoQuery },
  responses: { 200: { description: 'Models', content: { 'application/json': { schema: z.object({ models: z.array(ModelResponse) }) } } }, ...errorResponses },
});
const modelRoute = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One model',
  request: { params: ModelParams, query: NoQuery },
  responses: { 200: { description: 'The model', content: { 'application/json': { schema: ModelResponse } } }, ...errorResponses },
});
const graphRoute = createRoute({
  method: 'get',
  path: '/{id}/graphs/{file}',
  summary: "A model's ONNX graph (generator.onnx, decoder.onnx, encoder.onnx), to run it on the device",
  request: { params: ModelParams.extend({ file: z.string().openapi({ param: { name: 'file', in: 'path' }, enum: GRAPH_ROLES.map((r) => `${r}.onnx`) }) }), query: NoQuery },
  responses: {
    200: { description: 'The graph; immutable, ETag is its sha256 (as in the manifest)', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses,
  },
});

export function modelRoutes(registry: ModelRegistry) {
  return new OpenAPIHono()
    .openapi(listRoute, (c) => {
      const origin = new URL(c.req.url).origin;
      return c.json({ models: registry.available().map((m) => publicModel(m, origin)) }, 200);
    }, rejectInvalid(NoQuery))
    .openapi(modelRoute, async (c) => {
      const { manifest } = await registry.resolve(c.req.valid('param').id);
      return c.json(publicModel(manifest, new URL(c.req.url).origin), 200, { 'X-Model-Version': manifest.version });
    }, rejectInvalid(NoQuery))
    // The ONNX graphs themselves, for clients that run the model on the device (the playground, with WebGPU or
    // WebAssembly); immutable per version, identified by their sha256.
    .openapi(graphRoute, async (c) => {
      const { id, file } = c.req.valid('param');
      const entry = await registry.resolve(id);
      const role = GRAPH_ROLES.find((r) => `${r}.onnx` === file && entry.manifest.graphs[r]);
      const roles = Object.keys(entry.manifest.graphs).map((r) => `${r}.onnx`);
      if (!role) throw new HttpError(404, 'not_found', `model "${entry.id}" has no graph "${file.slice(0, 60)}"`, roles);
      let bytes: Uint8Array;
      try {
        bytes = await registry.readGraph(entry, role);
      } catch (err) {
        throw unavailable(entry.id, (err as Error).message);
      }
      const etag = `"${entry.manifest.graphs[role]!.sha256}"`;
      // A graph's bytes are those of its version: immutable at a pinned URL, short-lived at the unversioned one.
      const caching = cacheControl(id.includes('@'));
      if (c.req.header('If-None-Match') === etag) return new Response(null, { status: 304, headers: { ETag: etag, 'Cache-Control': caching } });
      return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': caching, ETag: etag, 'X-Model-Version': entry.manifest.version } });
    }, rejectInvalid(NoQuery));
}
