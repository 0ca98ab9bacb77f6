/**
 * Retrain and redeploy without redeploying code, end to end: a freshly trained run goes through the real deploy
 * CLI (exported on the way) into `wrangler dev`'s local R2 via the admin API, and the worker serves it. Also the
 * CLI's failures: a wrong token, an unreachable worker, bad flags: one line and a non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../trainer/train.js';
import { readToken } from '../../trainer/deploy.js';
import { fashionMnistDir } from '../helpers/idx-files.js';
import { startLocalWorker, type LocalWorker } from '../helpers/local-worker.js';
import { tempDir } from '../helpers/tmp.js';

const TOKEN = 'deploy-test-token-5d1e-0123456789abcdef';
const dataDir = fashionMnistDir();

let worker: LocalWorker;
// One connection per request: wrangler dev's proxy drops idle keep-alive connections, and a reused dead one fails.
const fresh = new Agent({ pipelining: 0 });
const get = (url: string, headers: Record<string, string> = {}) => undiciFetch(url, { headers, dispatcher: fresh });
const adminGet = (path: string) => get(`${worker.base}${path}`, { Authorization: `Bearer ${TOKEN}` });
const runDir = join(tempDir('deploy-run'), 'tiny-run');

beforeAll(async () => {
  await train({
    model: 'dcgan', data: dataDir, out: runDir, resume: false, batchSize: 32, seed: 5, backend: 'wasm', limit: 128, steps: 2, checkpointEvery: 2, evalN: 0,
    overrides: { generatorChannels: [16, 8], discriminatorChannels: [8, 16], latentSize: 8 },
  }, () => {});
  worker = await startLocalWorker(8831, '/v1/models/dcgan-fashion/sample.png?seed=1', 60_000, { ADMIN_TOKEN: TOKEN });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
});

function deploy(args: string[], token?: string) {
  const env = { ...process.env };
  delete env['ADMIN_TOKEN'];
  if (token !== undefined) env['ADMIN_TOKEN'] = token;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'trainer/deploy.ts', ...args], { encoding: 'utf8', timeout: 120_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l.trim()) };
}

describe('npm run model:push against wrangler dev', () => {
  it('exports a run, uploads it, activates it, and the worker serves it', async () => {
    const r = deploy([runDir, '--url', worker.base, '--activate', '--id', 'tiny-deployed'], TOKEN);
    expect(r.stderr.filter((l) => l.startsWith('error'))).toEqual([]);
    expect(r.status).toBe(0);
    const version = /uploading tiny-deployed version (\S+)/.exec(r.stdout)?.[1];
    expect(version).toMatch(/^[0-9a-f]{12}$/);
    expect(r.stdout).toMatch(/stored; smoke inference passed: generator [\d.]+ ms/);
    expect(r.stdout).toContain(`activated ${version}`);
    expect(r.stdout).toContain(`${worker.base}/v1/models/tiny-deployed/sample.png?seed=1`);

    const res = await get(`${worker.base}/v1/models/tiny-deployed/sample.png?seed=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Model-Version')).toBe(version);
    expect(res.headers.get('Content-Type')).toBe('image/png');
    const versions = await (await adminGet('/v1/admin/models/tiny-deployed/versions')).json();
    expect(versions).toMatchObject({ active: version, versions: [{ version }] });

    // Deploying the same run again (re-exported: same graphs, so the same version, but a new createdAt) changes nothing.
    const again = deploy([runDir, '--url', worker.base, '--activate', '--id', 'tiny-deployed'], TOKEN);
    expect({ status: again.status, stderr: again.stderr }).toMatchObject({ status: 0 });
    expect(again.stdout).toMatch(/already stored \(the same graphs/);
    expect(again.stdout).toContain(`already active: ${version}`);
  }, 180_000);

  it('uploads an exported model directory without activating it', () => {
    const r = deploy(['models/gan-fashion', '--url', worker.base], TOKEN);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/not activated; to serve it: npm run model:push -- models\/gan-fashion/);
  }, 120_000);

  it('fails with one line and exit 1 for a wrong token, leaving nothing stored', async () => {
    const r = deploy(['models/vae-fashion', '--url', worker.base], 'wrong');
    expect(r.status).toBe(1);
    expect(r.stderr).toEqual([expect.stringMatching(/^error: PUT \/v1\/admin\/models\/vae-fashion\/versions\/\w+: HTTP 401 unauthorized: wrong admin token$/)]);
    const versions = await (await adminGet('/v1/admin/models/vae-fashion/versions')).json();
    expect(versions).toMatchObject({ versions: [] });
  }, 120_000);

  it('fails with one line for an unreachable worker and for bad flags', () => {
    const down = deploy(['models/gan-fashion', '--url', 'http://127.0.0.1:59999'], TOKEN);
    expect(down.status).toBe(1);
    expect(down.stderr).toEqual([expect.stringMatching(/^error: cannot reach http:\/\/127\.0\.0\.1:59999 \(ECONNREFUSED\): is the worker running\? \(npm start\)$/)]);
    for (const [args, message] of [
      [['models/gan-fashion'], /exactly one of --url and --local/],
      [['models/gan-fashion', '--url', 'ftp://x'], /--url must be an http/],
      [['models/nothing-here', '--local'], /does not exist/],
      [[], /usage: npm run model:push/],
    ] as const) {
      const r = deploy([...args], TOKEN);
      expect(r.status).toBe(2);
      expect(r.stderr).toEqual([expect.stringMatching(message)]);
    }
    const noToken = deploy(['models/gan-fashion', '--url', worker.base]);
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toEqual([expect.stringMatching(/^error: set ADMIN_TOKEN/)]);
  }, 120_000);
});

describe('readToken', () => {
  it('reads ADMIN_TOKEN, else the .dev.vars line for a local worker', async () => {
    expect(await readToken(false, { ADMIN_TOKEN: 'abc' })).toBe('abc');
    const vars = join(tempDir('devvars'), '.dev.vars');
    writeFileSync(vars, 'OTHER=1\nADMIN_TOKEN = "from-dev-vars"\n');
    expect(await readToken(true, {}, vars)).toBe('from-dev-vars');
    await expect(readToken(false, {}, vars)).rejects.toThrow(/set ADMIN_TOKEN/);
  });
});
