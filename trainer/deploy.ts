/**
 * `npm run model:push -- DIR (--url URL | --local) [--activate] [--id ID]`: uploads an exported model (a directory with
 * manifest.json, e.g. models/NAME) or a trained run (runs/NAME: exported first, into a temporary directory) to a
 * worker's model registry through its admin API, optionally activates it, and prints what it did and URLs to try.
 * The token comes from the ADMIN_TOKEN environment variable; with --local (wrangler dev on 127.0.0.1:8787) also
 * from .dev.vars, where wrangler dev reads it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './cli/main.js';
import { modelIdFlag, parseFlags, UsageError } from './cli/flags.js';
import { validateManifest, type Manifest } from '../shared/manifest.js';

export const LOCAL_URL = 'http://127.0.0.1:8787';

export class DeployError extends Error {
  override name = 'DeployError';
}

export interface DeployOptions {
  dir: string;
  url: string;
  token: string;
  activate: boolean;
  /** Exports a run under this id (default: the run directory's name). */
  id?: string;
}

/** The admin token: ADMIN_TOKEN, else (for a local worker) the ADMIN_TOKEN line of .dev.vars. */
export async function readToken(local: boolean, env: NodeJS.ProcessEnv = process.env, devVars = '.dev.vars'): Promise<string> {
  if (env['ADMIN_TOKEN']) return env['ADMIN_TOKEN'];
  if (local && existsSync(devVars)) {
    const line = (await readFile(devVars, 'utf8')).split('\n').find((l) => /^\s*ADMIN_TOKEN\s*=/.test(l));
    const value = line?.slice(line.indexOf('=') + 1).trim().replace(/^(["'])(.*)\1$/, '$2');
    if (value) return value;
  }
  throw new UsageError(`set ADMIN_TOKEN to the worker's admin token${local ? ' (or put ADMIN_TOKEN=... in .dev.vars, which wrangler dev reads)' : ''}`);
}

async function call(url: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    // undici puts the system error in `cause` (an AggregateError when several addresses were tried).
    const cause = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message;
    throw new DeployError(`cannot reach ${new URL(url).origin} (${code})${new URL(url).hostname === '127.0.0.1' ? ': is the worker running? (npm start)' : ''}`);
  }
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new DeployError(`${init.method ?? 'GET'} ${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 120)}`);
  }
  if (res.status >= 400) {
    const error = body['error'] as { code?: string; message?: string } | undefined;
    throw new DeployError(`${init.method ?? 'GET'} ${new URL(url).pathname}: HTTP ${res.status} ${error?.code ?? ''}: ${error?.message ?? text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

/** The model directory to upload: `dir` itself when it holds a manifest, else `dir` exported as a run. */
async function exportedDir(dir: string, id: string | undefined, log: (l: string) => void): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  if (existsSync(join(dir, 'manifest.json'))) return { dir, cleanup: async () => {} };
  if (!existsSync(join(dir, 'checkpoint.bin'))) throw new UsageError(`${dir} holds neither manifest.json (an exported model) nor checkpoint.bin (a run)`);
  const out = await mkdtemp(join(tmpdir(), 'deploy-'));
  log(`${dir} is a run: exporting it first`);
  // The exporter needs the trainer's packages, which a serving-only install (`npm ci --workspaces=false`) leaves out.
  const { exportRun } = await import('./export.js').catch((err: Error & { code?: string }) => {
    if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new UsageError(`${dir} is a run, and exporting it needs the trainer's packages, which this install left out: run \`npm ci\`, or push an exported models/NAME`);
  });
  await exportRun({ run: dir, out, ...(id ? { id } : {}) }, log);
  return { dir: out, cleanup: () => rm(out, { recursive: true, force: true }) };
}

export async function deploy(opts: DeployOptions, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<Manifest> {
  const source = await exportedDir(opts.dir, opts.id, log);
  try {
    const manifest = validateManifest(JSON.parse(await readFile(join(source.dir, 'manifest.json'), 'utf8')));
    const form = new FormData();
    form.set('manifest', new Blob([JSON.stringify(manifest)], { type: 'application/json' }), 'manifest.json');
    let bytes = 0;
    for (const spec of Object.values(manifest.graphs)) {
      const graph = await readFile(join(source.dir, spec.file)).catch(() => {
        throw new DeployError(`${source.dir}/${spec.file} (named by the manifest) cannot be read`);
      });
      bytes += graph.length;
      form.set(spec.file, new Blob([graph]), spec.file);
    }
    const base = opts.url.replace(/\/+$/, '');
    const auth = { Authorization: `Bearer ${opts.token}` };
    const model = `${base}/v1/admin/models/${manifest.id}`;
    log(`uploading ${manifest.id} version ${manifest.version} (${manifest.family}, ${(bytes / 1024).toFixed(0)} KiB) to ${base}`);
    const up = await call(`${model}/versions/${manifest.version}`, { method: 'PUT', headers: auth, body: form });
    const smoke = (up.body['smoke'] as { role: string; ms: number }[] | undefined) ?? [];
    const already = up.body['manifestDiffers'] ? 'already stored (the same graphs; the stored manifest is kept: versions are immutable)' : 'already stored (identical)';
    log(`${up.body['stored'] ? 'stored' : already}; smoke inference passed: ${smoke.map((s) => `${s.role} ${s.ms} ms`).join(', ')}`);
    if (opts.activate) {
      const act = await call(`${model}/activate`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ version: manifest.version }) });
      log(act.body['changed'] === false ? `already active: ${manifest.version}` : `activated ${manifest.version} (was ${act.body['previous'] ?? 'the bundled model or none'}); other isolates follow within the sync interval`);
      const serving = (act.body['serving'] as { version?: string | null } | undefined)?.version;
      if (serving !== manifest.version) log(`warning: the isolate that answered still serves ${serving ?? 'nothing'}: it could not load ${manifest.version} (see npx wrangler tail)`);
    } else {
      log(`not activated; to serve it: npm run model:push -- ${opts.dir} --url ${base} --activate (or POST ${model}/activate {"version":"${manifest.version}"})`);
    }
    const pub = `${base}/v1/models/${manifest.id}`;
    const cls = manifest.classes.count > 0 ? '&class=0' : '';
    log(`try: ${pub}/sample.png?seed=1${cls}\n     ${pub}/grid.png?seed=1&n=16\n     ${pub}\n     ${model}/versions (admin: versions, active, rollback history)`);
    return manifest;
  } finally {
    await source.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const usage = 'usage: npm run model:push -- models/NAME|runs/NAME (--url https://WORKER | --local) [--activate] [--id ID]';
  await runCli(async () => {
    const parsed = parseFlags({ args: process.argv.slice(2), allowPositionals: true, options: { url: { type: 'string' }, local: { type: 'boolean', default: false }, activate: { type: 'boolean', default: false }, id: { type: 'string' } } });
    const { url, local, activate } = parsed.values;
    if (parsed.positionals.length !== 1) throw new UsageError(usage);
    if (!url === !local) throw new UsageError(`give exactly one of --url and --local; ${usage}`);
    if (url && !/^https?:\/\/[^/\s]+/.test(url)) throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
    const id = modelIdFlag(parsed.values.id);
    const dir = parsed.positionals[0]!;
    if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
    await deploy({ dir, url: url ?? LOCAL_URL, token: await readToken(local), activate, ...(id ? { id } : {}) });
  }, usage);
}
