/**
 * A small typed client of the edge API for apps, derived from the routes themselves: `api` is Hono's `hc` over the
 * public API's type (edge/app.ts's `PublicApi`: every route, its path and query parameters and its JSON answers, as
 * the server validates them), so a route changed on the server is a type error here. Only `fetch` and `URL` at run
 * time, so it runs in browsers, Node, Deno, Workers and React Native; nothing of the server is bundled (type-only
 * import). Around it, the helpers apps want: image URLs (pinned to a version for `<img>` tags), PNGs with the seed
 * and version that drew them, raw pixels, and API errors as `EdgeApiError` carrying the API's error code.
 */
import { hc, type InferRequestType } from 'hono/client';
import type { PublicApi } from '../edge/app.js';

/** What `hc` needs of fetch, from the client's simpler one (hc always passes the URL as a string). */
type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;
const typedClient = (base: string, fetchFn: FetchFn) => hc<PublicApi>(base, { fetch: (input: string | URL | Request, init?: RequestInit) => fetchFn(input instanceof Request ? input.url : String(input), init) });
/** Every public route, typed from the server's route definitions. */
export type PublicApiClient = ReturnType<typeof typedClient>;
type Routes = PublicApiClient['v1']['models'][':id'];

/** A seed: an integer in [0, 2^32) or any string of 1 to 256 UTF-8 bytes (the server hashes it; X-Seed says the number). */
export type Seed = number | string;
/** A route's query parameters as its schema takes them (strings on the wire), every one optional, numbers as numbers; a class by index or label. */
type Options<Q> = { [K in keyof Q]?: K extends 'seed' | 'from' | 'to' ? Seed : K extends 'class' ? number | string : number };
export type SampleOptions = Options<InferRequestType<Routes['sample.png']['$get']>['query']>;
export type GridOptions = Options<InferRequestType<Routes['grid.png']['$get']>['query']>;
export type InterpolateOptions = Options<InferRequestType<Routes['interpolate.png']['$get']>['query']> & { from: Seed; to: Seed };
export type LatentsOptions = Options<InferRequestType<Routes['latents']['$get']>['query']>;
type GenerateBody = InferRequestType<Routes['generate']['$post']>['json'];
/** The options of each route `url` builds. */
interface UrlOptions {
  'sample.png': SampleOptions;
  'grid.png': GridOptions;
  'interpolate.png': InterpolateOptions;
  latents: LatentsOptions;
}

/** The body of a route's 200 answer (the client's fetch throws on any other status). */
type Ok<R> = R extends { status: 200; json(): Promise<infer T> } ? T : never;
/** What GET /v1/models/{id} says of a model: the public part of its manifest, its card and links. */
export type ModelInfo = Ok<Awaited<ReturnType<Routes['$get']>>>;
export type Latents = Ok<Awaited<ReturnType<Routes['latents']['$get']>>>;

/** An image response: the PNG bytes and what drew them. */
export interface PngResult {
  png: Uint8Array;
  /** The seed used (the one given, or the random one the server chose). */
  seed?: number;
  version: string;
}

export interface RawImage {
  width: number;
  height: number;
  channels: number;
  /** uint8 pixels, row-major, channels interleaved. */
  data: Uint8Array;
}

/** An error answer of the API (4xx / 5xx) or a failure to reach it (status 0, code 'network'). */
export class EdgeApiError extends Error {
  override name = 'EdgeApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly allowed?: unknown,
  ) {
    super(message);
  }
}

export interface EdgeClientOptions {
  /** e.g. 'https://edge-generative.example.workers.dev' */
  baseUrl: string;
  /** Defaults to the global fetch; pass one to add auth, retries or a test double. */
  fetch?: FetchFn;
}

/** The JSON of a successful answer, typed as the route's 200 (errors were thrown by the client's fetch). */
async function ok<R extends { json(): Promise<unknown> }>(res: Promise<R>): Promise<Ok<R>> {
  return (await (await res).json()) as Ok<R>;
}

/** Query values as the wire has them (strings), leaving out the absent ones. */
function wire<Q extends object>(query: Q): { [K in keyof Q]-?: string | undefined } {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out[k] = String(v);
  return out as { [K in keyof Q]-?: string | undefined };
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A fetch that turns a failure to connect and a non-2xx answer into EdgeApiError (with the API's error body). */
function throwingFetch(fetchFn: FetchFn): FetchFn {
  return async (input: string, init?: RequestInit): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchFn(input, init);
    } catch (err) {
      throw new EdgeApiError(0, 'network', `could not reach ${input}: ${(err as Error).message}`);
    }
    if (res.ok) return res;
    const text = await res.text();
    let body: { error?: { code?: unknown; message?: unknown; allowed?: unknown } } | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const e = body?.error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') throw new EdgeApiError(res.status, e.code, e.message, e.allowed);
    throw new EdgeApiError(res.status, 'http_error', `HTTP ${res.status} from ${input}: ${text.slice(0, 200)}`);
  };
}

export class EdgeClient {
  /** Every public route, typed from the server's route definitions: `client.api.v1.models[':id']['grid.png'].$url(...)`. */
  readonly api: PublicApiClient;

  /** Builds URLs: `api` itself for an absolute base; for a relative one ('' on the same origin), a stand-in origin. */
  private readonly urls: PublicApiClient;
  private readonly relative: boolean;

  constructor(opts: EdgeClientOptions) {
    const userFetch: FetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    const base = opts.baseUrl.replace(/\/+$/, '');
    this.api = typedClient(base, throwingFetch(userFetch));
    // Hono's $url builds a URL object, which needs an origin: a relative base gets one, stripped again in url().
    this.relative = !/^[a-z][a-z0-9+.-]*:/i.test(base);
    this.urls = this.relative ? typedClient(`http://relative.invalid${base.startsWith('/') || base === '' ? base : `/${base}`}`, throwingFetch(userFetch)) : this.api;
  }

  /** A model reference for a path: the id, or `id@version` (pinned). */
  private ref(id: string, version?: string) {
    return { id: version ? `${encodeURIComponent(id)}@${encodeURIComponent(version)}` : encodeURIComponent(id) };
  }

  /**
   * The URL of an image route, e.g. for `<img src>`. With `version` (a model's `version`) the URL is pinned: its
   * bytes never change and cache forever. Without it, it follows what is active and caches for a minute.
   */
  url<R extends keyof UrlOptions>(id: string, route: R, query?: UrlOptions[R], version?: string): string {
    // One route of four: each $url takes its own query type, so the call goes through the shape they share.
    const $url = this.urls.v1.models[':id'][route].$url as (arg: { param: { id: string }; query: Record<string, string | undefined> }) => URL;
    const u = $url({ param: this.ref(id, version), query: wire(query ?? {}) });
    return this.relative ? `${u.pathname}${u.search}` : u.href;
  }

  /** An avatar's URL: pinned to the model's current version (looked up once), so it never changes. */
  async sampleUrl(id: string, opts: SampleOptions = {}): Promise<string> {
    return this.url(id, 'sample.png', opts, (await this.model(id)).version);
  }

  async listModels(): Promise<ModelInfo[]> {
    return (await ok(this.api.v1.models.$get({ query: {} }))).models;
  }

  model(id: string): Promise<ModelInfo> {
    return ok(this.api.v1.models[':id'].$get({ param: this.ref(id), query: {} }));
  }

  sample(id: string, opts: SampleOptions = {}): Promise<PngResult> {
    return this.png(this.api.v1.models[':id']['sample.png'].$get({ param: this.ref(id), query: wire(opts) }));
  }

  grid(id: string, opts: GridOptions = {}): Promise<PngResult> {
    return this.png(this.api.v1.models[':id']['grid.png'].$get({ param: this.ref(id), query: wire(opts) }));
  }

  interpolate(id: string, opts: InterpolateOptions): Promise<PngResult> {
    return this.png(this.api.v1.models[':id']['interpolate.png'].$get({ param: this.ref(id), query: wire(opts) }));
  }

  latents(id: string, opts: LatentsOptions = {}): Promise<Latents> {
    return ok(this.api.v1.models[':id'].latents.$get({ param: this.ref(id), query: wire(opts) }));
  }

  /** Images from given latents as one PNG grid. */
  generate(id: string, body: Omit<GenerateBody, 'format'>): Promise<PngResult> {
    return this.png(this.api.v1.models[':id'].generate.$post({ param: this.ref(id), query: {}, json: { ...body, format: 'png' } }));
  }

  /** Images from given latents as raw pixels, one per latent. */
  async generateImages(id: string, body: Omit<GenerateBody, 'format' | 'cols'>): Promise<RawImage[]> {
    // The route's 200 is a PNG or JSON; format 'json' asks for the JSON one.
    const answer = await this.api.v1.models[':id'].generate.$post({ param: this.ref(id), query: {}, json: { ...body, format: 'json' } });
    // A proxy or an older worker may answer the PNG instead: say so rather than fail parsing it as JSON.
    if (!(answer.headers.get('Content-Type') ?? '').startsWith('application/json')) throw new EdgeApiError(answer.status, 'http_error', `generate answered ${answer.headers.get('Content-Type') ?? 'no Content-Type'}, not the JSON asked for`);
    const res = await ok(Promise.resolve(answer));
    if (typeof res !== 'object' || !('images' in res)) throw new EdgeApiError(answer.status, 'http_error', 'generate answered JSON without images');
    return res.images.map((im) => ({ ...im, data: base64ToBytes(im.data) }));
  }

  /** VAE: the posterior of a PNG or JPEG (any size: the server fits it to the model's). */
  encode(id: string, image: Uint8Array): Promise<{ mean: number[]; logvar: number[] }> {
    return ok(this.api.v1.models[':id'].encode.$post({ param: this.ref(id), query: {} }, imageBody(image)));
  }

  /** VAE: the decoded posterior mean of a PNG or JPEG. */
  reconstruct(id: string, image: Uint8Array): Promise<PngResult> {
    return this.png(this.api.v1.models[':id'].reconstruct.$post({ param: this.ref(id), query: {} }, imageBody(image)));
  }

  private async png(request: Promise<{ headers: Headers; arrayBuffer(): Promise<ArrayBuffer> }>): Promise<PngResult> {
    const res = await request;
    const seed = res.headers.get('X-Seed');
    return { png: new Uint8Array(await res.arrayBuffer()), ...(seed !== null ? { seed: Number(seed) } : {}), version: res.headers.get('X-Model-Version') ?? '' };
  }
}

/** The raw image body of encode and reconstruct (hc sends JSON and forms; these routes take the bytes). */
function imageBody(image: Uint8Array) {
  const jpeg = image[0] === 0xff && image[1] === 0xd8;
  return { init: { body: image as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': jpeg ? 'image/jpeg' : 'image/png' } } };
}
