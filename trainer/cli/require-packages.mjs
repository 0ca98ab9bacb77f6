// Preloaded by the trainer's npm scripts (`node --import`), before any module is linked: on a serving-only install
// (`npm ci --workspaces=false`, which leaves out the trainer workspace's packages) a command says so in one line,
// instead of a module-resolution stack trace.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const missing = ['@tensorflow/tfjs', 'onnxruntime-node'].filter((name) => {
  try {
    require.resolve(`${name}/package.json`);
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  process.stderr.write(`error: the trainer's packages are not installed (${missing.join(', ')}): this install serves only; run \`npm ci\` (without --workspaces=false) to train, export or evaluate\n`);
  process.exit(1);
}
