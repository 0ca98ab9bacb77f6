/**
 * A small typed client of the edge API for apps: only `fetch`, `URL` and `TextDecoder`, so it runs in browsers,
 * Node 18+, Deno, Workers and React Native. Errors from the API become `EdgeApiError` carrying its code.
 */
import type { GenerateRequest, GridQuery, InterpolateQuery, LatentsQuery, LatentsResponse, ModelResponse, SampleQuery, z } from './api-types.js';

/** What GET /v1/models says of a model: the public part of its manifest, its card and links. */
export type ModelInfo = z.output<typeof ModelResponse>;

/** An image response: the PNG bytes and what drew them. */
export interface PngResult {
  png: Uint8Array;
  /** The seed used (the one given, or the random one the server chose). */
  seed?: number;
  version: string;
}

export type Latents = z.output<typeof LatentsResponse>;

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
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

/** Query values: numbers, or strings for seeds (any 1..256-byte string, e.g. a user id). */
type Query = Record<string, number | string | undefined>;
/** A seed: an integer in [0, 2^32) or any string of 1 to 256 UTF-8 bytes (the server hashes it; X-Seed says the number). */
export type Seed = number | string;
/** A route's query as the server's schema (edge/api/schemas.ts) parses it, every parameter optional, seeds as Seed. */
type Options<S extends z.ZodType> = { [K in keyof z.output<S>]?: K extends 'seed' | 'from' | 'to' ? Seed : z.output<S>[K] };

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class EdgeClient {
  private readonly base: string;
  private readonly fetchFn: (input: string, init?: RequestInit) => Promise<Response>;

  constructor(opts: EdgeClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * The URL of an image route, e.g. for `<img src>`. With `version` (a model's `version`) the URL is pinned: its
   * bytes never change and cache forever. Without it, it follows what is active and caches for a minute.
   */
  url(id: string, route: 'sample.png' | 'grid.png' | 'interpolate.png' | 'latents', query: Query = {}, version?: string): string {
    const q = Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    const ref = version ? `${encodeURIComponent(id)}@${encodeURIComponent(version)}` : encodeURIComponent(id);
    return `${this.base}/v1/models/${ref}/${route}${q ? `?${q}` : ''}`;
  }

  /** An avatar's URL: pinned to the model's current version (looked up once), so it never changes. */
  async sampleUrl(id: string, opts: Options<typeof SampleQuery> = {}): Promise<string> {
    return this.url(id, 'sample.png', opts, (await this.model(id)).version);
  }

  async listModels(): Promise<ModelInfo[]> {
    return ((await this.json(`${this.base}/v1/models`)) as { models: ModelInfo[] }).models;
  }

  async model(id: string): Promise<ModelInfo> {
    return (await this.json(`${this.base}/v1/models/${encodeURIComponent(id)}`)) as ModelInfo;
  }

  sample(id: string, opts: Options<typeof SampleQuery> = {}): Promise<PngResult> {
    return this.png(this.url(id, 'sample.png', opts));
  }

  grid(id: string, opts: Options<typeof GridQuery> = {}): Promise<PngResult> {
    return this.png(this.url(id, 'grid.png', opts));
  }

  interpolate(id: string, opts: Options<typeof InterpolateQuery> & { from: Seed; to: Seed }): Promise<PngResult> {
    return this.png(this.url(id, 'interpolate.png', opts));
  }

  async latents(id: string, opts: Options<typeof LatentsQuery> = {}): Promise<Latents> {
    return (await this.json(this.url(id, 'latents', opts))) as Latents;
  }

  /** Images from given latents as one PNG grid. */
  generate(id: string, body: Omit<z.input<typeof GenerateRequest>, 'format'>): Promise<PngResult> {
    return this.png(`${this.base}/v1/models/${encodeURIComponent(id)}/generate`, this.jsonBody({ ...body, format: 'png' }));
  }

  /** Images from given latents as raw pixels, one per latent. */
  async generateImages(id: string, body: Omit<z.input<typeof GenerateRequest>, 'format' | 'cols'>): Promise<RawImage[]> {
    const res = (await this.json(`${this.base}/v1/models/${encodeURIComponent(id)}/generate`, this.jsonBody({ ...body, format: 'json' }))) as { images: (Omit<RawImage, 'data'> & { data: string })[] };
    return res.images.map((im) => ({ ...im, data: base64ToBytes(im.data) }));
  }

  /** VAE: the posterior of a PNG of the model's size. */
  async encode(id: string, png: Uint8Array): Promise<{ mean: number[]; logvar: number[] }> {
    return (await this.json(`${this.base}/v1/models/${encodeURIComponent(id)}/encode`, this.pngBody(png))) as { mean: number[]; logvar: number[] };
  }

  /** VAE: the decoded posterior mean of a PNG. */
  reconstruct(id: string, png: Uint8Array): Promise<PngResult> {
    return this.png(`${this.base}/v1/models/${encodeURIComponent(id)}/reconstruct`, this.pngBody(png));
  }

  private jsonBody(body: unknown): RequestInit {
    return { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  }

  private pngBody(png: Uint8Array): RequestInit {
    return { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png as Uint8Array<ArrayBuffer> };
  }

  private async request(url: string, init?: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(url, init);
    } catch (err) {
      throw new EdgeApiError(0, 'network', `could not reach ${url}: ${(err as Error).message}`);
    }
    if (res.ok) return res;
    const text = await res.text();
    try {
      const { error } = JSON.parse(text) as { error: { code: string; message: string; allowed?: unknown } };
      throw new EdgeApiError(res.status, error.code, error.message, error.allowed);
    } catch (err) {
      if (err instanceof EdgeApiError) throw err;
      throw new EdgeApiError(res.status, 'http_error', `HTTP ${res.status} from ${url}: ${text.slice(0, 200)}`);
    }
  }

  private async json(url: string, init?: RequestInit): Promise<unknown> {
    return (await this.request(url, init)).json();
  }

  private async png(url: string, init?: RequestInit): Promise<PngResult> {
    const res = await this.request(url, init);
    const seed = res.headers.get('X-Seed');
    return { png: new Uint8Array(await res.arrayBuffer()), ...(seed !== null ? { seed: Number(seed) } : {}), version: res.headers.get('X-Model-Version') ?? '' };
  }
}
