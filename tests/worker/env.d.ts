// The secret the worker tests read through `env` besides wrangler.toml's bindings (edge/worker-configuration.d.ts).
declare namespace Cloudflare {
  interface Env {
    ADMIN_TOKEN?: string;
  }
}
