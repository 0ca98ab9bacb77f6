/**
 * onnxruntime-web as the worker uses it (edge/inference/ort-web-runtime.ts, here in Node) under concurrent requests of one
 * isolate: the app's mixed traffic (every model, every public route) at concurrency 32 from a cold start, so runs
 * interleave with each other and with the creation of other models' sessions. Before runs were made exclusive,
 * about half such requests failed inside the wasm ("null function or function signature mismatch").
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../edge/app.js';
import { createOrtWebRuntime } from '../../edge/inference/ort-web-runtime.js';
import { bundledManifests } from '../../edge/registry/bundled.js';
import { mixedRequest } from '../bench/edge-bench.js';
import { loadModelDir } from '../helpers/models-on-disk.js';

const appWithOrtWeb = () => createApp({ models: bundledManifests.map((b) => loadModelDir(`models/${b.dir}`)), runtime: createOrtWebRuntime() });

async function answer(app: ReturnType<typeof appWithOrtWeb>, i: number): Promise<{ status: number; bytes: Uint8Array }> {
  const { path, init } = mixedRequest(i);
  const res = await app.request(`http://edge.test${path}`, init as RequestInit);
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('onnxruntime-web runtime under concurrent requests', () => {
  it('answers 320 mixed requests at concurrency 32 from a cold start, each as it answers alone', async () => {
    const app = appWithOrtWeb();
    const count = 320;
    const answers: { status: number; bytes: Uint8Array }[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++;
        answers[i] = await answer(app, i);
      }
    }));
    // Failures listed by request index (filtering first would renumber them).
    expect(answers.flatMap((a, i) => (a.status === 200 ? [] : [`${i}: ${a.status} ${new TextDecoder().decode(a.bytes.slice(0, 120))}`]))).toEqual([]);
    // Deterministic requests (seeded images, latents, the same bodies) answered one at a time by a fresh app.
    const alone = appWithOrtWeb();
    for (const i of [0, 1, 2, 4, 5, 6, 8, 9, 10, 14, 15, 18, 19]) expect((await answer(alone, i)).bytes, `request ${i}`).toEqual(answers[i]!.bytes);
  }, 120_000);
});
