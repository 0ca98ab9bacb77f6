/**
 * The admin API under /v1/admin/: upload checked versions to the R2 registry, activate one, roll back, list,
 * delete. Guarded by a bearer token (the ADMIN_TOKEN secret; without it the admin API does not exist). Every
 * pointer change is a compare-and-swap (registry/store.ts), and the isolate that made it serves the new version
 * before answering; other isolates follow within the sync interval (registry/sync.ts).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { LRUCache } from 'lru-cache';
import { MODEL_ID_PATTERN, VERSION_PATTERN, type Manifest } from '../../shared/manifest.js';
import { jsonBody, readBody } from '../http/body.js';
import { HttpError } from '../api/errors.js';
import { checkUpload } from '../registry/check.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { ActivePointer, ModelStore } from '../registry/store.js';
import type { ModelSync } from '../registry/sync.js';
import { rejectInvalid } from '../http/validation.js';
import { ErrorBody, NoQuery } from '../api/schemas.js';
import type { InferenceRuntime } from '../../shared/runtime.js';
import { clientKey } from '../http/rate-limit.js';
import { MAX_HISTORY, MAX_UPLOAD_BYTES } from '../api/limits.js';


export interface AdminOptions {
  token: string;
  store: ModelStore;
  registry: ModelRegistry;
  sync: ModelSync;
  runtime: InferenceRuntime;
}

/** Failed authentications a client may make per window before it is refused without the token being checked. */
export const AUTH_FAILURES = { max: 10, windowSeconds: 300 } as const;
/** Clients tracked at once (oldest forgotten first): bounds the isolate's memory under a spray of addresses. */
const AUTH_CLIENTS = 10_000;

/**
 * Hono's bearer-auth (its timing-safe comparison) behind a per-client limit on failed attempts. Per isolate: an
 * attacker spread over isolates gets AUTH_FAILURES.max guesses per isolate per window, which against a
 * 32-character token is nothing; the point is that one client cannot hammer it.
 */
function adminAuth(token: string): MiddlewareHandler[] {
  const window = AUTH_FAILURES.windowSeconds * 1000;
  const failures = new LRUCache<string, { count: number; since: number }>({ max: AUTH_CLIENTS, ttl: window, ttlResolution: 0, perf: Date });
  const clientOf = (c: Context) => clientKey(c.req.header('CF-Connecting-IP') ?? 'local');
  const limit: MiddlewareHandler = async (c, next) => {
    const seen = failures.get(clientOf(c));
    const now = Date.now();
    if (seen && now - seen.since < window && seen.count >= AUTH_FAILURES.max) {
      c.header('Retry-After', String(Math.ceil((seen.since + window - now) / 1000)));
      throw new HttpError(429, 'rate_limited', `too many failed authentications: at most ${AUTH_FAILURES.max} per ${AUTH_FAILURES.windowSeconds} s per client`);
    }
    await next();
  };
  /** A refusal: counted against the client, answered as the API's error (not bearer-auth's plain text). */
  const refuse = (message: string) => (c: Context): never => {
    const client = clientOf(c);
    const now = Date.now();
    const seen = failures.get(client);
    const fresh = !seen || now - seen.since >= window;
    failures.set(client, { count: fresh ? 1 : seen.count + 1, since: fresh ? now : seen.since }, { noUpdateTTL: !fresh });
    c.header('WWW-Authenticate', 'Bearer realm="admin"');
    throw new HttpError(401, 'unauthorized', message);
  };
  const needed = refuse('the admin API needs "Authorization: Bearer <ADMIN_TOKEN>"');
  return [limit, bearerAuth({ token, realm: 'admin', noAuthenticationHeaderMessage: needed, invalidAuthenticationHeaderMessage: needed, invalidTokenMessage: refuse('wrong admin token') })];
}

const versionRule = (input: unknown) => `version must match ${VERSION_PATTERN}, got ${JSON.stringify(input)?.slice(0, 80)}`;
const Id = z
  .string()
  .regex(MODEL_ID_PATTERN, { error: (iss) => `model id must match ${MODEL_ID_PATTERN}, got "${String(iss.input).slice(0, 80)}"` })
  .openapi({ param: { name: 'id', in: 'path' } });
const Version = z.string({ error: (iss) => versionRule(iss.input) }).regex(VERSION_PATTERN, { error: (iss) => versionRule(iss.input) });
const IdParams = z.object({ id: Id });
const VersionParams = z.object({ id: Id, version: Version.openapi({ param: { name: 'version', in: 'path' } }) });
const ActivateRequest = z.object({ version: Version.openapi({ description: 'A stored version of the model.' }) }).openapi('ActivateRequest');

const json = (description: string, schema: z.ZodType = z.looseObject({})) => ({ description, content: { 'application/json': { schema } } });
const Pointer = z.object({ id: z.string(), active: z.string().nullable(), previous: z.string().nullable(), serving: z.unknown() });
const adminErrors = {
  '4XX': {
    description: '401 without the right token; 404 unknown version (or the admin API is disabled); 409 conflict; 422 the upload failed a check, with the reason; 429 too many failed authentications.',
    content: { 'application/json': { schema: ErrorBody } },
  },
} as const;
const admin = { security: [{ adminToken: [] }], tags: ['admin'] };

/** The admin API's routes, under /v1/admin; /v1/openapi.json describes them even where the admin API is off. */
export const ADMIN_ROUTES = {
  list: createRoute({ ...admin, method: 'get', path: '/models', summary: 'Models with their active registry version and what this isolate serves', request: { query: NoQuery }, responses: { 200: json('Models'), ...adminErrors } }),
  versions: createRoute({ ...admin, method: 'get', path: '/models/{id}/versions', summary: 'Stored versions, the active one and the rollback history', request: { params: IdParams, query: NoQuery }, responses: { 200: json('Versions'), ...adminErrors } }),
  upload: createRoute({
    ...admin,
    method: 'put',
    path: '/models/{id}/versions/{version}',
    summary: 'Upload a version: multipart/form-data with a "manifest" part and one part per graph named by its file name',
    description: `Checked before anything is stored: manifest schema, id and version as in the URL, each graph's sha256, a session per graph and smoke inferences at batch 1, 2 and the largest grid served (the graph's own tensor names, declared output shapes, finite values). Versions are immutable, and a deleted version's name is never reused; the same graphs again is a no-op. At most ${MAX_UPLOAD_BYTES} bytes.`,
    request: { params: VersionParams, query: NoQuery },
    responses: { 201: json('Stored'), 200: json('Already stored with the same graphs'), ...adminErrors },
  }),
  activate: createRoute({
    ...admin,
    method: 'post',
    path: '/models/{id}/activate',
    summary: 'Serve a stored version (isolates follow within MODEL_SYNC_SECONDS)',
    middleware: jsonBody,
    request: { params: IdParams, query: NoQuery, body: { required: true, content: { 'application/json': { schema: ActivateRequest } } } },
    responses: { 200: json('Activated', Pointer.extend({ changed: z.boolean() })), ...adminErrors },
  }),
  rollback: createRoute({ ...admin, method: 'post', path: '/models/{id}/rollback', summary: 'Serve the previously active version again (null: the bundled model)', request: { params: IdParams, query: NoQuery }, responses: { 200: json('Rolled back', Pointer), ...adminErrors } }),
  remove: createRoute({ ...admin, method: 'delete', path: '/models/{id}/versions/{version}', summary: 'Delete a version that is not active', request: { params: VersionParams, query: NoQuery }, responses: { 200: json('Deleted'), ...adminErrors } }),
};

/** manifest + graph files from a multipart/form-data body: a part named "manifest", one part per graph named by its file name. */
async function readUpload(body: Uint8Array, contentType: string): Promise<{ manifest: unknown; files: Map<string, Uint8Array> }> {
  let form: FormData;
  try {
    form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': contentType } }).formData();
  } catch {
    throw new HttpError(400, 'invalid_body', 'the body is not valid multipart/form-data');
  }
  let manifest: unknown;
  const files = new Map<string, Uint8Array>();
  for (const [name, value] of form as unknown as Iterable<[string, string | Blob]>) {
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(await value.arrayBuffer());
    if (name === 'manifest' || name === 'manifest.json') {
      try {
        manifest = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        throw new HttpError(422, 'invalid_model', 'the manifest part is not valid JSON');
      }
    } else {
      if (files.has(name)) throw new HttpError(400, 'invalid_body', `part "${name.slice(0, 80)}" is given more than once`);
      files.set(name, bytes);
    }
  }
  if (manifest === undefined) throw new HttpError(422, 'invalid_model', 'no "manifest" part: send the manifest.json and one part per graph, named by its file name');
  return { manifest, files };
}

export function adminRoutes({ token, store, registry, sync, runtime }: AdminOptions) {
  const app = new OpenAPIHono();
  app.use('*', ...adminAuth(token));
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('Cache-Control', 'no-store');
  });

  /** What serves `id` in this isolate now. */
  const serving = (id: string) => registry.serving(id);

  /** Applies `change` to the pointer of `id` by compare-and-swap, retrying a few times if others change it meanwhile. */
  async function updatePointer(id: string, change: (p: ActivePointer) => Promise<ActivePointer | null>) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { pointer, etag } = await store.pointer(id);
      const next = await change(pointer);
      if (next === null) return { before: pointer, after: pointer, changed: false };
      if (await store.swapPointer(id, next, etag)) {
        await sync.checkNow();
        return { before: pointer, after: next, changed: true };
      }
    }
    throw new HttpError(409, 'conflict', `the pointer of "${id}" kept changing during the update; retry`);
  }

  const hook = rejectInvalid(NoQuery, ActivateRequest);
  app.openapi(ADMIN_ROUTES.list, async (c) => {
    const ids = [...new Set([...(await store.ids()), ...registry.ids()])].sort();
    const models = await Promise.all(ids.map(async (id) => ({ id, active: (await store.pointer(id)).pointer.active, serving: serving(id) })));
    return c.json({ models }, 200);
  }, hook);

  app.openapi(ADMIN_ROUTES.versions, async (c) => {
    const { id } = c.req.valid('param');
    const [{ pointer }, versions] = await Promise.all([store.pointer(id), store.versions(id)]);
    return c.json({ id, active: pointer.active, history: pointer.history, updatedAt: pointer.updatedAt || null, serving: serving(id), versions }, 200);
  }, hook);

  app.openapi(ADMIN_ROUTES.upload, async (c) => {
    const { id, version } = c.req.valid('param');
    const contentType = c.req.header('Content-Type') ?? '';
    const body = await readBody(c, 'multipart/form-data', MAX_UPLOAD_BYTES);
    const upload = await readUpload(body, contentType);
    // The version must be the name of its graphs (checkUpload), so a pinned URL can only ever mean these bytes.
    const { manifest, smoke } = await checkUpload(id, version, upload.manifest, upload.files, runtime);
    // Under the version's lock from here: what is stored is read and written by one upload at a time, so two
    // uploads cannot both find the version absent and then mix their files.
    if (!(await store.lockVersion(id, version))) throw new HttpError(409, 'conflict', `another upload of version "${version}" of "${id}" is in progress; retry`);
    try {
      if ((await store.pointer(id)).pointer.deleted.includes(version)) {
        throw new HttpError(409, 'conflict', `version "${version}" of "${id}" was deleted, and version names are never reused; upload under another name (the exporter names versions by their content)`);
      }
      const existing = (await store.manifest(id, version)) as Manifest | null;
      if (existing !== null) {
        // Versions are immutable. The same graphs again (a re-export: only createdAt or the card differ) is a no-op.
        if (JSON.stringify(existing.graphs) === JSON.stringify(manifest.graphs)) {
          return c.json({ id, version, stored: false, unchanged: true, manifestDiffers: JSON.stringify(existing) !== JSON.stringify(manifest), smoke }, 200);
        }
        throw new HttpError(409, 'conflict', `version "${version}" of "${id}" is already stored with other graphs; versions are immutable (delete it first if it is not active)`);
      }
      if (!(await store.putVersion(manifest, upload.files))) throw new HttpError(409, 'conflict', `version "${version}" of "${id}" was stored meanwhile; versions are immutable`);
    } finally {
      await store.unlockVersion(id, version);
    }
    registry.forget(id, version); // a pinned URL that found it missing a moment ago finds it now
    return c.json({ id, version, stored: true, files: [...upload.files.keys()], bytes: body.length, smoke }, 201);
  }, hook);

  app.openapi(ADMIN_ROUTES.activate, async (c) => {
    const { id } = c.req.valid('param');
    const { version } = c.req.valid('json');
    const hasBundled = registry.hasBundled(id);
    // Load and warm the version in this isolate before the pointer moves: one that cannot load is refused here,
    // and the pointer (and every other isolate) stays where it was.
    if (registry.versionOf(id) !== version && (await store.manifest(id, version)) !== null) {
      try {
        await registry.resolve(`${id}@${version}`);
      } catch (err) {
        if (err instanceof HttpError && err.status === 503) throw new HttpError(422, 'invalid_model', `version "${version}" of "${id}" cannot load; the active version is unchanged`);
        throw err;
      }
    }
    const result = await updatePointer(id, async (p) => {
      if (p.active === version) return null;
      if (p.deleted.includes(version)) throw new HttpError(404, 'not_found', `version "${version}" of "${id}" was deleted`);
      if ((await store.manifest(id, version)) === null) {
        throw new HttpError(404, 'not_found', `no stored version "${version}" of "${id}"; upload it first`, (await store.versions(id)).map((v) => v.version));
      }
      const history = p.active !== null || hasBundled ? [...p.history, p.active] : p.history;
      return { ...p, active: version, history: history.slice(-MAX_HISTORY), updatedAt: new Date().toISOString() };
    });
    return c.json({ id, active: version, previous: result.before.active, changed: result.changed, serving: serving(id) }, 200);
  }, hook);

  app.openapi(ADMIN_ROUTES.rollback, async (c) => {
    const { id } = c.req.valid('param');
    const result = await updatePointer(id, async (p) => {
      if (p.history.length === 0) throw new HttpError(409, 'conflict', `"${id}" has no earlier version to roll back to`);
      return { ...p, active: p.history.at(-1)!, history: p.history.slice(0, -1), updatedAt: new Date().toISOString() };
    });
    return c.json({ id, active: result.after.active, previous: result.before.active, serving: serving(id) }, 200);
  }, hook);

  app.openapi(ADMIN_ROUTES.remove, async (c) => {
    const { id, version } = c.req.valid('param');
    if ((await store.manifest(id, version)) === null) throw new HttpError(404, 'not_found', `no stored version "${version}" of "${id}"`);
    // The pointer first (the version leaves the rollback history and joins the deleted ones, in one compare-and-swap
    // that an activation cannot slip past), then the files: a reader never follows a pointer to a deleted version.
    await updatePointer(id, async (p) => {
      if (p.active === version) throw new HttpError(409, 'conflict', `version "${version}" is active; activate another version or roll back first`);
      return { ...p, history: p.history.filter((v) => v !== version), deleted: [...new Set([...p.deleted, version])], updatedAt: new Date().toISOString() };
    });
    await store.deleteVersion(id, version);
    registry.forget(id, version); // this isolate lets go of it at once; others when their caches evict it
    return c.json({ id, version, deleted: true }, 200);
  }, hook);

  return app;
}
