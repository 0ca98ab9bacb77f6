/**
 * Points miniflare (under wrangler dev, vitest-pool-workers and the benchmarks) at the workerd this project pins
 * in devDependencies instead of the one miniflare 4.20260426.0 brings: that workerd (1.20260426.1) leaves a
 * request on a reused keep-alive connection unanswered while the worker keeps the CPU busy, so a browser's page
 * load or a keep-alive load test hangs (tests/bench/keepalive-repro.ts); 1.20261117.1 answers every request. The
 * miniflare and wrangler releases that bring a fixed workerd need Node >= 22.
 *
 * `node --import tsx scripts/local-workerd.ts CMD [ARGS...]` runs CMD with it (npm start); configs and
 * benchmarks call `useLocalWorkerd()`.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The pinned workerd binary. */
export function pinnedWorkerd(): string {
  return (createRequire(import.meta.url)('workerd') as { default: string }).default;
}

/** Makes miniflare started from this process (and its children) run the pinned workerd, unless told otherwise. */
export function useLocalWorkerd(): string {
  process.env['MINIFLARE_WORKERD_PATH'] ??= pinnedWorkerd();
  return process.env['MINIFLARE_WORKERD_PATH'];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: node --import tsx scripts/local-workerd.ts COMMAND [ARGS...]');
    process.exit(2);
  }
  useLocalWorkerd();
  const child = spawn(command, args, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    console.error(`cannot run ${command}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
