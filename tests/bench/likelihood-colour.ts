/**
 * The colour of a conv VAE's reconstructions, Bernoulli against continuous Bernoulli (docs/training.md, "The VAE's
 * likelihood"): `node --import tsx tests/bench/likelihood-colour.ts [STEPS]` on data/emoji (npm run data:emoji) at 32 px.
 * Prints the mean per-pixel |R - G| and max - min of 32 originals and of their reconstructions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { train } from '../../trainer/train.js';
import { decodePng } from '../../shared/png.js';
const steps = Number(process.argv[2] ?? 300);
const cbMean = (l: number) => { // E[x] of CB(lambda) (Loaiza-Ganem & Cunningham 2019, section 3)
  if (Math.abs(l - 0.5) < 1e-3) return 0.5;
  return l / (2 * l - 1) + 1 / (2 * Math.atanh(1 - 2 * l));
};
for (const likelihood of ['bernoulli', 'continuous-bernoulli']) {
  const out = `runs/likelihood-colour/${likelihood}-${steps}`;
  const t = performance.now();
  const meta = await train({ model: 'vae', data: 'data/emoji', out, resume: false, batchSize: 64, seed: 1, backend: 'wasm', limit: 1024, checkpointEvery: 100000, evalN: 0, steps,
    folder: { imageSize: 32, channels: 3, fit: 'crop', background: [255, 255, 255] }, overrides: { arch: 'conv', likelihood } }, () => {});
  const g = decodePng(readFileSync(join(out, 'samples', 'recon-final.png')));
  // tileImages: 2n tiles, cols 8: first n originals, then n reconstructions (each 32x32x3).
  const cols = g.width / 32, n = (g.width / 32) * (g.height / 32) / 2;
  const stat = (first: number, f: (v: number) => number) => {
    let rg = 0, sat = 0, count = 0;
    for (let k = first; k < first + n; k++) {
      const tx = (k % cols) * 32, ty = Math.floor(k / cols) * 32;
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        const o = ((ty + y) * g.width + tx + x) * 3;
        const r = 255 * f(g.data[o]! / 255), gg = 255 * f(g.data[o + 1]! / 255), b = 255 * f(g.data[o + 2]! / 255);
        rg += Math.abs(r - gg); sat += Math.max(r, gg, b) - Math.min(r, gg, b); count++;
      }
    }
    return `|R-G| ${(rg / count).toFixed(1)}, max-min ${(sat / count).toFixed(1)}`;
  };
  console.log(`${likelihood}: ${steps} steps, ${((performance.now() - t) / 1000).toFixed(0)} s, loss ${meta.losses['loss']?.toFixed(1)} (recon ${meta.losses['recon']?.toFixed(1)}, kl ${meta.losses['kl']?.toFixed(1)})`);
  console.log(`  originals: ${stat(0, (v) => v)}; reconstructions as served (lambda): ${stat(n, (v) => v)}; as the CB mean: ${stat(n, (v) => Math.min(1, Math.max(0, cbMean(v))))}`);
}
