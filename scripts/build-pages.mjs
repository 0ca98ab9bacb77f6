// wrangler's build step (wrangler.toml [build]), with copy-ort-web.mjs: bundles the playground's script
// (edge/pages/playground.ts, which imports shared/pixels.ts) with esbuild, and copies its stylesheet, into the
// static assets (models/_pages/, not committed). The page's HTML is bundled into the worker (edge/worker.ts).
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('models/_pages', { recursive: true });
await build({
  entryPoints: ['edge/pages/playground.ts'],
  outfile: 'models/_pages/playground.js',
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});
copyFileSync('edge/pages/playground.css', 'models/_pages/playground.css');
