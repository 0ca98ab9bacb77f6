/**
 * The GPU measurement of scripts/gpu/run.sh, bundled with Node by scripts/gpu/pack.sh: on the webgpu backend, the
 * adapter, then per family the training steps/s at the asked batch for the emoji DCGAN and cGAN (64x64 RGB, the
 * bundled models' size: base 256 channels, kernel 4), and the GPU time per program of one step (timestamp-query).
 * One JSON line per result on stdout. --tiny shrinks the networks, for a run on SwiftShader.
 *
 *   node gpu-bench.mjs --data emoji-64.bin.gz [--batch 64] [--steps 50] [--warmup 5] [--families dcgan,cgan]
 *                      [--gpu-adapter NAME] [--tiny] [--no-profile]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { FAMILIES } from '../../trainer/families/index.js';
import type { Batch, Family } from '../../trainer/families/family.js';
import { bytesToPixels } from '../../shared/pixels.js';
import { SeededRandom } from '../../shared/rng.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    batch: { type: 'string', default: '64' },
    steps: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '5' },
    families: { type: 'string', default: 'dcgan,cgan' },
    'gpu-adapter': { type: 'string' },
    tiny: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
  },
});
const print = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const fail = (message: string): never => {
  process.stderr.write(`gpu-bench: ${message}\n`);
  process.exit(1);
};

/** The trainer's decoded data-set cache (trainer/data/folder.ts), gzipped: header length, JSON header, labels, pixels. */
function loadCache(path: string): { count: number; side: number; labels: Uint8Array; images: Uint8Array } {
  const raw = new Uint8Array(gunzipSync(readFileSync(path)));
  const n = new DataView(raw.buffer, raw.byteOffset).getUint32(0);
  const { count } = JSON.parse(new TextDecoder().decode(raw.subarray(4, 4 + n))) as { count: number };
  const labels = raw.subarray(4 + n, 4 + n + count);
  const images = raw.subarray(4 + n + count);
  const side = Math.round(Math.sqrt(images.length / count / 3));
  if (side * side * 3 * count !== images.length) fail(`${path}: not RGB square images`);
  return { count, side, labels, images };
}

if (!a.data) fail('--data FILE.bin.gz is required (scripts/gpu/pack.sh writes emoji-64.bin.gz)');
const data = loadCache(a.data!);
const batch = Number(a.batch);
const steps = Number(a.steps);
const warmup = Number(a.warmup);
const classCount = Math.max(...data.labels) + 1;

const t0 = performance.now();
const backend = await selectBackend('webgpu', 1, a['gpu-adapter']).catch((err: Error) => fail(err.message));
print({ adapter: backend.adapter, description: backend.description, startSeconds: +((performance.now() - t0) / 1000).toFixed(2), images: data.count, side: data.side, classes: classCount, kernels: process.env['TRAINER_WEBGPU_KERNELS'] ?? 'trainer' });

for (const name of a.families.split(',')) {
  const family = FAMILIES[name] as Family<object> | undefined;
  if (!family) fail(`unknown family ${name}`);
  const size = a.tiny ? { generatorChannels: [16, 8, 8, 4], discriminatorChannels: [4, 8, 8, 16], latentSize: 16 } : { baseChannels: 256 };
  const config = { ...family!.defaults, ...size };
  const image = { width: data.side, height: data.side, channels: 3 as const };
  const model = family!.create(config, { image, classCount: name === 'cgan' ? classCount : 0 }, new SeededRandom(1));
  const px = data.side * data.side * 3;
  const pick = new SeededRandom(2);
  const nextBatch = (): Batch => {
    const values = new Float32Array(batch * px);
    const labels = new Uint8Array(batch);
    for (let i = 0; i < batch; i++) {
      const idx = Math.floor(pick.nextFloat() * data.count);
      bytesToPixels(data.images.subarray(idx * px, (idx + 1) * px), family!.pixelRange, values.subarray(i * px, (i + 1) * px));
      labels[i] = data.labels[idx]!;
    }
    return { images: tf.tensor4d(values, [batch, data.side, data.side, 3]), labels };
  };
  const rng = new SeededRandom(3);
  const step = () => backend.guard(() => model.step(nextBatch, rng));
  const w0 = performance.now();
  for (let i = 0; i < warmup; i++) await step();
  const warmupSeconds = (performance.now() - w0) / 1000;
  const tensors = tf.memory().numTensors;
  const s0 = performance.now();
  let losses: Record<string, number> = {};
  for (let i = 0; i < steps; i++) losses = await step();
  const seconds = (performance.now() - s0) / 1000;
  print({ family: name, batch, steps, seconds: +seconds.toFixed(3), stepsPerSecond: +(steps / seconds).toFixed(3), warmupSeconds: +warmupSeconds.toFixed(2), losses, tensorsConstant: tf.memory().numTensors === tensors });

  if (!a['no-profile']) {
    // One step under tfjs's GPU timer: each program in its own pass with timestamp writes (slower than a plain step).
    let pending: Promise<unknown> = Promise.resolve();
    const timing = (await tf.time(() => {
      pending = model.step(nextBatch, rng);
    })) as tf.TimingInfo & { getExtraProfileInfo?: () => string };
    await pending;
    // tfjs-backend-webgpu gives "Program: ms, Program: ms, ..." (backend_webgpu.ts, time()).
    const perProgram = new Map<string, { ms: number; count: number }>();
    for (const entry of (timing.getExtraProfileInfo?.() ?? '').split(', ').filter(Boolean)) {
      const at = entry.lastIndexOf(': ');
      const program = entry.slice(0, at);
      const e = perProgram.get(program) ?? { ms: 0, count: 0 };
      perProgram.set(program, { ms: e.ms + Number(entry.slice(at + 2)), count: e.count + 1 });
    }
    const programs = [...perProgram].sort((x, y) => y[1].ms - x[1].ms).map(([program, e]) => ({ program, ms: +e.ms.toFixed(3), dispatches: e.count }));
    print({ family: name, profile: { gpuMs: typeof timing.kernelMs === 'number' ? +timing.kernelMs.toFixed(3) : null, wallMs: +timing.wallMs.toFixed(1), programs } });
  }
  for (const net of Object.values(model.networks)) net.dispose();
  for (const opt of Object.values(model.optimizers)) opt.dispose();
}
