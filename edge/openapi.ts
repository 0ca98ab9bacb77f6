/**
 * `GET /v1/openapi.json`: an OpenAPI 3.1 description of the public API generated from the descriptors the routes
 * validate with (query-schema.ts) and the error codes of errors.ts, so the description and the validation cannot
 * drift; `GET /v1/docs` renders it as a page. The admin API is described too, under its bearer token.
 */
import { BODY_LIMITS, MAX_IMAGES, QUERIES, isSeedParam, type QueryParam } from './query-schema.js';
import { MAX_SEED } from '../shared/rng.js';
import { ERROR_CODES } from './errors.js';
import { MAX_UPLOAD_BYTES } from './routes/admin.js';
import { VERSION_PATTERN } from '../shared/manifest.js';

type Schema = Record<string, unknown>;

function parameter(name: string, p: QueryParam): Schema {
  if (isSeedParam(p)) {
    const schema = { oneOf: [{ type: 'integer', minimum: 0, maximum: MAX_SEED }, { type: 'string', minLength: 1, description: `at most ${p.maxBytes} UTF-8 bytes` }], 'x-max-bytes': p.maxBytes };
    return { name, in: 'query', required: p.required, description: p.description, schema };
  }
  const schema: Schema = { type: 'integer', minimum: p.min, maximum: p.max, ...(p.default !== undefined ? { default: p.default } : {}) };
  return { name, in: 'query', required: p.default === undefined && !['seed', 'class', 'cols'].includes(name), description: p.description, schema };
}

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Model id, from GET /v1/models; `{id}@{version}` pins one version: its responses never change (immutable).',
  schema: { type: 'string', pattern: `^[a-z0-9][a-z0-9-]{0,62}(@${VERSION_PATTERN.source.slice(1, -1)})?$` },
};
const scaleQuery = Object.entries(QUERIES.png).map(([n, p]) => parameter(n, p));
const upload = { required: true, description: 'A PNG or JPEG of any size up to 2048 x 2048, preprocessed as the model\'s training images (manifest image.preprocess).', content: { 'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } }, 'image/jpeg': { schema: { type: 'string', contentMediaType: 'image/jpeg' } } } };
const errors = {
  '4XX': { description: 'Bad input, unknown model, too large, or rate limited: what was wrong and what is allowed.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '503': { description: 'The model cannot load (only that model).', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
};
const png = (description: string) => ({ description, content: { 'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } } } });
const cachingNote = 'With a seed the response has a strong ETag bound to the model version (304 on If-None-Match): immutable at a version-pinned URL (/v1/models/{id}@{version}/...), kept 60 s (stale-while-revalidate 600 s) at the unversioned one, which follows activations and rollbacks. Without a seed, X-Seed says the seed used and the response is not stored. X-Model-Version names the model version.';

function getImage(summary: string, query: Record<string, QueryParam>): Schema {
  return { get: { summary, description: cachingNote, parameters: [idParam, ...Object.entries(query).map(([n, p]) => parameter(n, p))], responses: { '200': png(summary), ...errors } } };
}

export function openApiDocument(serverUrl: string): Schema {
  return {
    openapi: '3.1.0',
    info: { title: 'edge-generative', version: '1', description: 'Seeded sampling, class-conditional sampling, interpolation, generation from latents and VAE encoding with generative models trained by this project.' },
    servers: [{ url: serverUrl }],
    paths: {
      '/v1/models': { get: { summary: 'The models, with their model cards', responses: { '200': { description: 'Models', content: { 'application/json': { schema: { type: 'object', properties: { models: { type: 'array', items: { $ref: '#/components/schemas/Model' } } } } } } }, ...errors } } },
      '/v1/models/{id}': { get: { summary: 'One model', parameters: [idParam], responses: { '200': { description: 'The model', content: { 'application/json': { schema: { $ref: '#/components/schemas/Model' } } } }, ...errors } } },
      '/v1/models/{id}/graphs/{file}': {
        get: {
          summary: "A model's ONNX graph (generator.onnx, decoder.onnx, encoder.onnx), to run it on the device",
          parameters: [idParam, { name: 'file', in: 'path', required: true, schema: { enum: ['generator.onnx', 'decoder.onnx', 'encoder.onnx'] } }],
          responses: { '200': { description: 'The graph; immutable, ETag is its sha256 (as in the manifest)', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } }, ...errors },
        },
      },
      '/v1/models/{id}/sample.png': getImage('One image', QUERIES.sample),
      '/v1/models/{id}/grid.png': getImage('n images tiled in a grid', QUERIES.grid),
      '/v1/models/{id}/interpolate.png': getImage('A row of images between the latents of two seeds', QUERIES.interpolate),
      '/v1/models/{id}/latents': {
        get: {
          summary: 'The latents a seed maps to',
          parameters: [idParam, ...Object.entries(QUERIES.latents).map(([n, p]) => parameter(n, p))],
          responses: { '200': { description: 'Latents', content: { 'application/json': { schema: { type: 'object', properties: { seed: { type: 'integer' }, n: { type: 'integer' }, size: { type: 'integer' }, distribution: { enum: ['normal', 'uniform'] }, latents: { type: 'array', items: { type: 'array', items: { type: 'number' } } } } } } } }, ...errors },
        },
      },
      '/v1/models/{id}/generate': {
        post: {
          summary: 'Images from given latents (e.g. latent arithmetic)',
          parameters: [idParam, ...scaleQuery],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/GenerateRequest' } } } },
          responses: {
            '200': { description: 'A PNG grid (format png, the default) or the images as base64 uint8 pixels (format json)', content: { 'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } }, 'application/json': { schema: { type: 'object', properties: { model: { type: 'string' }, version: { type: 'string' }, images: { type: 'array', items: { type: 'object', properties: { width: { type: 'integer' }, height: { type: 'integer' }, channels: { type: 'integer' }, data: { type: 'string', contentEncoding: 'base64' } } } } } } } } },
            ...errors,
          },
        },
      },
      '/v1/models/{id}/encode': {
        post: { summary: 'VAE: the posterior of an image', parameters: [idParam], requestBody: upload, responses: { '200': { description: 'Posterior mean and log-variance', content: { 'application/json': { schema: { type: 'object', properties: { mean: { type: 'array', items: { type: 'number' } }, logvar: { type: 'array', items: { type: 'number' } } } } } } }, ...errors } },
      },
      '/v1/models/{id}/reconstruct': {
        post: { summary: 'VAE: the decoded posterior mean of an image', parameters: [idParam, ...scaleQuery], requestBody: upload, responses: { '200': png('The reconstruction'), ...errors } },
      },
      ...adminPaths(),
    },
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN secret of the deployment.' } },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { enum: [...ERROR_CODES] }, message: { type: 'string' }, allowed: {} } } } },
        GenerateRequest: {
          type: 'object',
          required: ['latents'],
          additionalProperties: false,
          properties: {
            latents: { type: 'array', minItems: 1, maxItems: MAX_IMAGES, items: { type: 'array', description: "Exactly the model's latent.size numbers.", items: { type: 'number', minimum: -BODY_LIMITS.maxLatentAbs, maximum: BODY_LIMITS.maxLatentAbs } } },
            classes: { type: 'array', description: 'Conditional models only, one class index per latent (required there).', items: { type: 'integer', minimum: 0 } },
            format: { enum: ['png', 'json'], default: 'png' },
            cols: { type: 'integer', minimum: 1, maximum: MAX_IMAGES },
          },
          description: `Body at most ${BODY_LIMITS.maxBodyBytes} bytes.`,
        },
        Model: {
          type: 'object',
          properties: {
            id: { type: 'string' }, family: { enum: ['vae', 'gan', 'dcgan', 'cgan'] }, version: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, description: { type: 'string' },
            latent: { type: 'object', properties: { size: { type: 'integer' }, distribution: { enum: ['normal', 'uniform'] } } },
            classes: { type: 'object', properties: { count: { type: 'integer' }, labels: { type: 'array', items: { type: 'string' } } } },
            image: { type: 'object', properties: { width: { type: 'integer' }, height: { type: 'integer' }, channels: { type: 'integer' }, pixelRange: { enum: ['-1..1', '0..1'] }, preprocess: { type: 'object', description: 'How uploads are fitted (crop, pad, stretch) and what transparency is composited over (#rrggbb).', properties: { fit: { enum: ['crop', 'pad', 'stretch'] }, background: { type: 'string', pattern: '^#[0-9a-f]{6}$' } } } } },
            canEncode: { type: 'boolean' },
            training: { type: 'object' },
            evaluation: { type: ['object', 'null'], description: 'The model card: FCD, classifier score, class histogram, class accuracy (cGAN), likelihood bounds (VAE), memorisation (image folders).' },
            evaluationNote: { type: 'string', description: 'Why there is no evaluation (the data set has no ruler).' },
            links: { type: 'object', description: 'sample, grid, interpolate; pinnedSample and pinnedGrid (version-pinned, immutable: embed these); the graphs.', additionalProperties: { type: 'string', format: 'uri' } },
          },
        },
      },
    },
  };
}

const json = (description: string, properties: Schema = {}) => ({ description, content: { 'application/json': { schema: { type: 'object', properties } } } });
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string', pattern: VERSION_PATTERN.source } };
const adminErrors = {
  '4XX': { description: '401 without the right token; 404 unknown version (or the admin API is disabled); 409 conflict; 422 the upload failed a check, with the reason.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
};

/** The admin API (routes/admin.ts): the R2 model registry, behind the ADMIN_TOKEN bearer token. */
function adminPaths(): Record<string, Schema> {
  const op = (summary: string, extra: Schema, ok: Schema) => ({ summary, security: [{ adminToken: [] }], tags: ['admin'], ...extra, responses: { ...ok, ...adminErrors } });
  const pointer = { id: { type: 'string' }, active: { type: ['string', 'null'] }, previous: { type: ['string', 'null'] }, serving: { type: 'object' } };
  return {
    '/v1/admin/models': { get: op('Models with their active registry version and what this isolate serves', {}, { '200': json('Models', { models: { type: 'array' } }) }) },
    '/v1/admin/models/{id}/versions': { get: op('Stored versions, the active one and the rollback history', { parameters: [idParam] }, { '200': json('Versions', { active: { type: ['string', 'null'] }, history: { type: 'array' }, versions: { type: 'array' } }) }) },
    '/v1/admin/models/{id}/versions/{version}': {
      put: op('Upload a version: multipart/form-data with a "manifest" part and one part per graph named by its file name', {
        description: `Checked before anything is stored: manifest schema, id and version as in the URL, each graph's sha256, a session per graph and smoke inferences at batch 1, 2 and the largest grid served (the graph's own tensor names, declared output shapes, finite values). Versions are immutable, and a deleted version's name is never reused; the same graphs again is a no-op. At most ${MAX_UPLOAD_BYTES} bytes.`,
        parameters: [idParam, versionParam],
        requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', required: ['manifest'], properties: { manifest: { type: 'string', contentMediaType: 'application/json' } }, additionalProperties: { type: 'string', contentMediaType: 'application/octet-stream' } } } } },
      }, { '201': json('Stored', { stored: { type: 'boolean' }, smoke: { type: 'array' } }), '200': json('Already stored with the same graphs') }),
      delete: op('Delete a version that is not active', { parameters: [idParam, versionParam] }, { '200': json('Deleted') }),
    },
    '/v1/admin/models/{id}/activate': {
      post: op('Serve a stored version (isolates follow within MODEL_SYNC_SECONDS)', { parameters: [idParam], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['version'], properties: { version: { type: 'string' } } } } } } }, { '200': json('Activated', pointer) }),
    },
    '/v1/admin/models/{id}/rollback': { post: op('Serve the previously active version again (null: the bundled model)', { parameters: [idParam] }, { '200': json('Rolled back', pointer) }) },
  };
}

/** A self-contained page listing the API from openapi.json (no external scripts: it works offline too). */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>edge-generative API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#111}code{background:#f3f4f6;padding:0 3px;border-radius:3px}
section{border-top:1px solid #e5e7eb;padding:.75rem 0}.m{font-weight:700;color:#fff;border-radius:4px;padding:1px 6px;margin-right:6px}.get{background:#2563eb}.post{background:#16a34a}.put{background:#9333ea}.delete{background:#dc2626}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;border-bottom:1px solid #eee;padding:3px 8px 3px 0;vertical-align:top}</style></head>
<body><h1>edge-generative API</h1><p>Generated from <a href="openapi.json">/v1/openapi.json</a> (OpenAPI 3.1).</p><div id="api">Loading...</div>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
fetch('openapi.json').then((r) => r.json()).then((doc) => {
  const out = [];
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const rows = (op.parameters || []).map((p) => '<tr><td><code>' + esc(p.name) + '</code>' + (p.required ? ' *' : '') + '</td><td>' + esc(p.in) + '</td><td>' + esc(JSON.stringify(p.schema)) + '</td><td>' + esc(p.description) + '</td></tr>').join('');
    const body = op.requestBody ? '<p>Body: ' + Object.keys(op.requestBody.content).map((t) => '<code>' + esc(t) + '</code>').join(', ') + '</p>' : '';
    out.push('<section><h3><span class="m ' + esc(method) + '">' + esc(method.toUpperCase()) + '</span><code>' + esc(path) + '</code></h3><p>' + esc(op.summary) + '. ' + esc(op.description) + '</p>' + (rows ? '<table><tr><th>name</th><th>in</th><th>schema</th><th>meaning</th></tr>' + rows + '</table>' : '') + body + '</section>');
  }
  document.getElementById('api').innerHTML = out.join('');
});
</script></body></html>
`;
