/**
 * The Cloudflare Worker entry, and the one place that deals with Worker specifics: the ORT wasm arrives as a
 * precompiled module import (wrangler compiles *.wasm imports), graphs come from the ASSETS binding (Workers
 * Static Assets: models/ is uploaded beside the script, outside its size limit), manifests are bundled; newer
 * versions come from the R2 bucket MODELS (the model registry), managed through the admin API.
 */
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import type { Hono } from 'hono';
import { bundledManifests } from '../models/bundled.js';
import { createApp } from './app.js';
import { positiveNumberVar } from './env-vars.js';
import type { ModelSource } from './model-source.js';
import { ModelStore } from './model-store.js';
import { createOrtWebRuntime } from './ort-web-runtime.js';
import type { RateLimiter } from './rate-limit.js';
import { layeredCache, MemoryCache, worthSharedCache, type ResponseCache } from './response-cache.js';

export interface Env {
  ASSETS: Fetcher;
  /** `[[ratelimits]]` in wrangler.toml; its limit and period are repeated in vars for the error message. */
  RATE_LIMITER?: RateLimiter;
  RATE_LIMIT?: string;
  RATE_LIMIT_PERIOD?: string;
  /** Comma-separated origins allowed to call the API from browsers; "*" (the default) for any. */
  CORS_ORIGINS?: string;
  /** The R2 model registry (`[[r2_buckets]]`); without it only the bundled models serve. */
  MODELS?: R2Bucket;
  /** How often (seconds) an isolate checks the registry for newly activated versions. */
  MODEL_SYNC_SECONDS?: string;
  /** Bearer token of the admin API (`wrangler secret put ADMIN_TOKEN`); without it the admin API is off. */
  ADMIN_TOKEN?: string;
}

/** A model whose files are read from the assets binding. */
function assetSource(assets: Fetcher, dir: string, manifest: unknown): ModelSource {
  return {
    manifest,
    async readFile(file) {
      const res = await assets.fetch(`https://assets.local/${dir}/${encodeURIComponent(file)}`);
      if (!res.ok) throw new Error(`asset ${dir}/${file}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

const runtime = createOrtWebRuntime({ wasmModule: ortWasm });

/** onnxruntime-web for browsers (the playground), from the static assets that wrangler's build step fills. */
const BROWSER_ORT: Record<string, string> = {
  'ort.jspi.bundle.min.mjs': 'text/javascript',
  'ort-wasm-simd-threaded.jspi.mjs': 'text/javascript',
  'ort-wasm-simd-threaded.jspi.wasm': 'application/wasm',
  'ort.wasm.bundle.min.mjs': 'text/javascript',
  'ort-wasm-simd-threaded.mjs': 'text/javascript',
  'ort-wasm-simd-threaded.wasm': 'application/wasm',
};

/** A browser ORT file from the assets, or null if there is no such file. */
async function browserOrt(assets: Fetcher, file: string): Promise<Response | null> {
  const type = BROWSER_ORT[file];
  const res = type ? await assets.fetch(`https://assets.local/_ort/${file}`) : null;
  if (!res?.ok) return null;
  return new Response(res.body, { headers: { 'Content-Type': type!, 'Cache-Control': 'public, max-age=86400', 'Access-Control-Allow-Origin': '*' } });
}

let app: Hono | undefined;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    // Built on the first request: bindings arrive with requests. Sessions then live as long as the isolate.
    app ??= createApp({
      models: bundledManifests.map((m) => assetSource(env.ASSETS, m.dir, m.manifest)),
      runtime,
      browserOrt: { files: Object.keys(BROWSER_ORT), read: (file) => browserOrt(env.ASSETS, file) },
      corsOrigins: (env.CORS_ORIGINS ?? '*').split(',').map((o) => o.trim()).filter(Boolean),
      ...(env.MODELS ? { store: new ModelStore(env.MODELS) } : {}),
      ...(env.ADMIN_TOKEN ? { adminToken: env.ADMIN_TOKEN } : {}),
      syncSeconds: positiveNumberVar('MODEL_SYNC_SECONDS', env.MODEL_SYNC_SECONDS, 30),
      cache: layeredCache(new MemoryCache(8 << 20), (caches as unknown as { default: ResponseCache }).default, worthSharedCache),
      ...(env.RATE_LIMITER ? { rateLimit: { limiter: env.RATE_LIMITER, limit: positiveNumberVar('RATE_LIMIT', env.RATE_LIMIT, 600), periodSeconds: positiveNumberVar('RATE_LIMIT_PERIOD', env.RATE_LIMIT_PERIOD, 60) } } : {}),
    });
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
