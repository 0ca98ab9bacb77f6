/**
 * `node --import tsx tests/bench/hostile-inputs.ts`: every attack of the corpus (tests/corpus/) and a few more,
 * sent to the deployable bundle on workerd (tests/helpers/workerd-worker.ts), one at a time. For each: the status,
 * workerd's CPU time (utime + stime of its processes, from /proc), its peak memory above the resident memory before
 * the attack (VmHWM after resetting it through /proc/PID/clear_refs), and whether the worker still answers normal
 * requests exactly as before (what was lost). Writes the table into docs/hardening.md between its markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { HOSTILE_PNGS } from '../corpus/hostile-png.js';
import { HOSTILE_JPEGS } from '../corpus/hostile-jpeg.js';
import { buildBundle, startWorkerd } from '../helpers/workerd-worker.js';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { train } from '../../trainer/train.js';
import { exportRun } from '../../trainer/export.js';
import { tempDir } from '../helpers/tmp.js';

const ADMIN_TOKEN = 'hostile-inputs-bench-token-0123456789abcdef';

/**
 * The largest model the registry takes: a 64x64 RGB DCGAN whose generator graph is just under the 8 MiB upload
 * cap (base width 368: 7.6 MiB), trained one step on the emoji folder and exported (parity-checked).
 */
async function largestModel(): Promise<{ dir: string; manifest: { id: string; version: string; graphs: Record<string, { file: string }> } }> {
  if (!existsSync('data/emoji')) throw new Error('the largest-upload check needs the emoji folder: npm run data:emoji');
  const run = join(tempDir('largest'), 'run');
  await train({ model: 'dcgan', data: 'data/emoji', out: run, resume: false, batchSize: 8, seed: 1, backend: 'auto', limit: 64, checkpointEvery: 100, evalN: 0, steps: 1,
    folder: { imageSize: 64, fit: 'crop', background: [255, 255, 255] }, overrides: { baseChannels: 368 } }, () => {});
  const dir = join(tempDir('largest'), 'largest');
  const { manifest } = await exportRun({ run, out: dir, id: 'largest' }, () => {});
  return { dir, manifest };
}

function uploadBody(dir: string): FormData {
  const form = new FormData();
  for (const file of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, file));
    form.set(file === 'manifest.json' ? 'manifest' : file, new Blob([bytes]), file);
  }
  return form;
}

interface Attack {
  name: string;
  send: (base: string) => Promise<Response>;
}

const post = (path: string, type: string, body: Uint8Array | string, headers: Record<string, string> = {}) => (base: string) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': type, ...headers }, body: body as BodyInit });
const get = (path: string, headers: Record<string, string> = {}) => (base: string) => fetch(`${base}${path}`, { headers });

const attacks: Attack[] = [
  ...HOSTILE_PNGS.map((h) => ({ name: `PNG: ${h.name}`, send: post('/v1/models/vae-fashion/encode', 'image/png', h.bytes()) })),
  ...HOSTILE_JPEGS.map((h) => ({ name: `JPEG: ${h.name}`, send: post('/v1/models/vae-fashion/encode', 'image/jpeg', h.bytes()) })),
  { name: 'a 2 MiB body (limit 1 MiB)', send: post('/v1/models/vae-fashion/encode', 'image/png', new Uint8Array(2 << 20)) },
  { name: 'JSON nested 500,000 deep', send: post('/v1/models/dcgan-fashion/generate', 'application/json', '['.repeat(500_000)) },
  { name: 'generate: 64 latents of 1e308', send: post('/v1/models/dcgan-fashion/generate', 'application/json', JSON.stringify({ latents: Array.from({ length: 64 }, () => Array(100).fill(1e308)) })) },
  { name: 'the largest grid: 64 images, scale 8 (1792 x 1792 PNG)', send: get('/v1/models/dcgan-fashion/grid.png?seed=7&n=64&cols=8&scale=8') },
  { name: 'interpolate, 64 steps, scale 8 (a 14336 x 224 PNG, inside the pixel budget)', send: get('/v1/models/dcgan-fashion/interpolate.png?from=1&to=2&steps=64&scale=8') },
  { name: 'a 257-byte seed', send: get(`/v1/models/dcgan-fashion/sample.png?seed=${'s'.repeat(257)}`) },
  { name: '200 unknown query parameters', send: get(`/v1/models/dcgan-fashion/sample.png?${Array.from({ length: 200 }, (_, i) => `p${i}=1`).join('&')}`) },
  { name: 'a pinned URL of a version that does not exist', send: get('/v1/models/dcgan-fashion@nope/sample.png?seed=1') },
  { name: 'a path of 4,000 characters', send: get(`/v1/models/${'x'.repeat(4000)}/sample.png`) },
  ...Array.from({ length: 11 }, (_, i) => ({ name: `admin: wrong token, attempt ${i + 1} of 11`, send: get('/v1/admin/models', { Authorization: `Bearer guess-${i}`, 'CF-Connecting-IP': '203.0.113.99' }) })),
];

/** Uses of the registry at its limits, after the attacks: the largest upload, its activation, its largest grid. */
const limits: Attack[] = [
  { name: 'upload of the largest model the registry takes (checked: session, smoke at batch 1, 2 and 64)', send: (base) => fetch(`${base}/v1/admin/models/largest/versions/${largest.manifest.version}`, { method: 'PUT', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: uploadBody(largest.dir) }) },
  { name: 'its activation (loaded and warmed first)', send: (base) => fetch(`${base}/v1/admin/models/largest/activate`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ version: largest.manifest.version }) }) },
  { name: 'its largest grid (64 images of 64x64x3)', send: get('/v1/models/largest/grid.png?seed=3&n=64') },
];

function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // a process that has gone
    }
  }
  return ticks * 10; // USER_HZ is 100
}

function resetPeaks(pids: number[]): void {
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
    } catch {
      // not permitted: the peak is then since start
    }
  }
}

const largest = await largestModel();
const largestBytes = readdirSync(largest.dir).reduce((n, f) => n + readFileSync(join(largest.dir, f)).length, 0);
console.log(`largest model: ${(largestBytes / 2 ** 20).toFixed(1)} MiB`);
const bundle = buildBundle();
const port = 8871;
const worker = await startWorkerd(bundle, port, '/v1/models/dcgan-fashion/sample.png?seed=1', 'worker', 60_000, { ADMIN_TOKEN });
const pids = worker.pids!;
const normal = async () => {
  const urls = ['/v1/models/dcgan-fashion/sample.png?seed=11', '/v1/models/vae-fashion/grid.png?seed=3&n=16', '/v1/models/dcgan-fashion'];
  return Promise.all(urls.map(async (u) => {
    const res = await fetch(`${worker.base}${u}`);
    return `${res.status}:${Buffer.from(await res.arrayBuffer()).toString('base64').length}`;
  }));
};
const baseline = await normal();
const rows: string[] = [];
try {
  for (const attack of [...attacks, ...limits]) {
    await new Promise((r) => setTimeout(r, 200));
    const rssBefore = worker.memory().rssMiB;
    resetPeaks(pids);
    const cpu0 = cpuMs(pids);
    const t0 = performance.now();
    const res = await attack.send(worker.base);
    const text = (await res.text()).slice(0, 400);
    const wall = performance.now() - t0;
    const cpu = cpuMs(pids) - cpu0;
    const peak = worker.memory().peakMiB - rssBefore;
    const after = await normal();
    const lost = after.join() === baseline.join() ? 'nothing' : `normal requests changed: ${after.join(' ')}`;
    const code = res.headers.get('Content-Type')?.includes('json') ? (JSON.parse(text.length < 400 ? text : '{}') as { error?: { code: string } }).error?.code ?? '' : '';
    rows.push(`| ${attack.name} | ${res.status} ${code} | ${Math.round(wall)} | ${cpu} | ${Math.max(0, Math.round(peak * 10) / 10)} | ${lost} |`);
    console.log(rows.at(-1));
  }
} finally {
  await worker.stop();
}
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node --import tsx tests/bench/hostile-inputs.ts\` (workerd, the deployable bundle; CPU in 10 ms ticks of /proc).`,
  '',
  '| attack | status | wall ms | workerd CPU ms | peak memory above resident, MiB | what was lost |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
const doc = readFileSync('docs/hardening.md', 'utf8');
const [start, end] = ['<!-- attacks:start -->', '<!-- attacks:end -->'];
writeFileSync('docs/hardening.md', `${doc.slice(0, doc.indexOf(start) + start.length)}\n${table}${doc.slice(doc.indexOf(end))}`);
console.log('wrote the table into docs/hardening.md');
