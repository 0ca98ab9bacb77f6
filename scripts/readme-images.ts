/**
 * README's emoji images, drawn by the app itself (createApp with onnxruntime-node) from the bundled models, with the
 * same URLs a website would use, so anyone can compare them with the old ones in git:
 * `node --import tsx scripts/readme-images.ts` writes docs/emoji-dcgan.png (64 seeded samples, seed 1),
 * docs/emoji-cgan.png (63: one column per category) and docs/avatar-alice.png, each at 64x64 a tile (a smaller
 * model is drawn with `scale`, as an embed would).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../edge/app.js';
import { ortNodeRuntime } from '../trainer/export/ort-node.js';
import { writeFileAtomic } from '../trainer/run/atomic.js';

const TILE = 64;

function fromDisk(id: string): { manifest: { image: { width: number } }; readFile(file: string): Promise<Uint8Array> } {
  const dir = join('models', id);
  return { manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), readFile: async (file) => new Uint8Array(readFileSync(join(dir, file))) };
}

const models = { dcgan: fromDisk('emoji-dcgan'), cgan: fromDisk('emoji-cgan') };
const app = createApp({ models: Object.values(models), runtime: ortNodeRuntime });
const scale = (m: { manifest: { image: { width: number } } }) => TILE / m.manifest.image.width;

const images: [string, string][] = [
  ['docs/emoji-dcgan.png', `/v1/models/emoji-dcgan/grid.png?seed=1&n=64&cols=8&scale=${scale(models.dcgan)}`],
  ['docs/emoji-cgan.png', `/v1/models/emoji-cgan/grid.png?seed=1&n=63&cols=9&scale=${scale(models.cgan)}`],
  ['docs/avatar-alice.png', `/v1/models/emoji-dcgan/sample.png?seed=alice%40example.com&scale=${2 * scale(models.dcgan)}`],
];
for (const [file, path] of images) {
  const res = await app.request(path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  await writeFileAtomic(file, new Uint8Array(await res.arrayBuffer()));
  console.log(`${file} <- ${path} (version ${res.headers.get('X-Model-Version')})`);
}
