// The bindings the worker tests read through `env` (wrangler.toml + vitest.workers.config.ts; see edge/worker.ts).
declare namespace Cloudflare {
  interface Env {
    MODELS?: R2Bucket;
    ADMIN_TOKEN?: string;
  }
}
