/**
 * `node --import tsx tests/bench/native-call-times.ts [--size 64] [--steps 6]`: the colour DCGAN's training steps
 * (emoji-dcgan's size, batch 64, 2 threads) with every native kernel call timed by its graph's inputs and outputs:
 * how much of a step runs in onnxruntime-node, which graphs dominate, and how many bytes of outputs a step fetches
 * (onnxruntime-node copies each output into a new ArrayBuffer, docs/benchmarks.md).
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

type Fetched = Record<string, { dims: number[]; data: Float32Array }>;
interface Session {
  run(feeds: Fetched, fetches: Fetched, options: object): unknown;
}

// Wrap the binding's session before the native kernels load it.
const binding = (createRequire(import.meta.url)('onnxruntime-node/dist/binding') as { binding: { InferenceSession: new () => Session } }).binding;
const Stock = binding.InferenceSession;
const calls = new Map<string, { ms: number; calls: number; bytes: number }>();
let timing = false;
binding.InferenceSession = class extends Stock {
  override run(feeds: Fetched, fetches: Fetched, options: object) {
    const t = performance.now();
    const result = super.run(feeds, fetches, options);
    if (timing) {
      const dims = (m: Fetched) => Object.entries(m).map(([k, v]) => `${k}${JSON.stringify(v.dims)}`).join(' ');
      const key = `${dims(feeds)} -> ${dims(fetches)}`;
      const c = calls.get(key) ?? { ms: 0, calls: 0, bytes: 0 };
      c.ms += performance.now() - t;
      c.calls++;
      c.bytes += Object.values(fetches).reduce((sum, v) => sum + v.data.byteLength, 0);
      calls.set(key, c);
    }
    return result;
  }
};

const { selectBackend } = await import('../../trainer/backend/select.js');
const { FAMILIES } = await import('../../trainer/families/index.js');
const { loadFolderDataset } = await import('../../trainer/data/folder.js');
const { batchStream } = await import('./batches.js');
const { SeededRandom } = await import('../../shared/rng.js');
const { values } = parseArgs({ options: { size: { type: 'string', default: '64' }, steps: { type: 'string', default: '6' } } });
const side = Number(values.size);
const steps = Number(values.steps);
await selectBackend('wasm', 2, undefined, 'native');
const data = await loadFolderDataset('data/emoji', { imageSize: side, fit: 'crop', background: [255, 255, 255] });
const family = FAMILIES['dcgan']!;
const model = family.create({ ...family.defaults, baseChannels: 256 }, { image: data.shape, classCount: data.classNames.length }, new SeededRandom(1));
const nextBatch = batchStream(data, family, 64);
const rng = new SeededRandom(2);
for (let i = 0; i < 2; i++) await model.step(nextBatch, rng); // sessions opened, memory grown
timing = true;
const start = performance.now();
for (let i = 0; i < steps; i++) await model.step(nextBatch, rng);
const stepMs = (performance.now() - start) / steps;
timing = false;
const total = (f: (c: { ms: number; bytes: number }) => number) => [...calls.values()].reduce((sum, c) => sum + f(c), 0) / steps;
console.log(`${side}x${side}: a step ${stepMs.toFixed(0)} ms, native calls ${total((c) => c.ms).toFixed(0)} ms, their outputs ${(total((c) => c.bytes) / 2 ** 20).toFixed(0)} MiB`);
console.log('ms a step, calls a step, ms a call, graph');
for (const [key, c] of [...calls].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
  console.log(`${(c.ms / steps).toFixed(1).padStart(7)} ${(c.calls / steps).toFixed(1).padStart(5)} ${(c.ms / c.calls).toFixed(2).padStart(7)}  ${key.length > 160 ? `${key.slice(0, 157)}...` : key}`);
}
