/**
 * README's emoji images, drawn by the app itself (createApp with onnxruntime-node) from the bundled models, with the
 * same URLs a website would use, so anyone can compare them with the old ones in git:
 * `node --import tsx scripts/readme-images.ts` writes docs/emoji-dcgan.png (64 seeded samples, seed 1),
 * docs/emoji-cgan.png (63: one column per category), docs/avatar-alice.png and docs/avatars.png (eight users'
 * avatars side by side, each its own request), each at 64x64 a tile (a smaller model is drawn with `scale`, as an
 * embed would). The avatars are the cGAN's "Smileys & Emotion" class: a round face for every user id.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../edge/app.js';
import { ortNodeRuntime } from '../trainer/export/ort-node.js';
import { writeFileAtomic } from '../trainer/run/atomic.js';
import { decodePng, encodePng } from '../shared/png.js';

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
  ['docs/avatar-alice.png', avatar('alice@example.com', 2)],
];

/** A user's avatar: README's embed, at `times` the tile size. */
function avatar(user: string, times = 1): string {
  return `/v1/models/emoji-cgan/sample.png?seed=${encodeURIComponent(user)}&class=${encodeURIComponent('Smileys & Emotion')}&scale=${times * scale(models.cgan)}`;
}

async function get(path: string): Promise<Uint8Array> {
  const res = await app.request(path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return new Uint8Array(await res.arrayBuffer());
}

for (const [file, path] of images) {
  await writeFileAtomic(file, await get(path));
  console.log(`${file} <- ${path}`);
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'].map((name) => `${name}@example.com`);
const GAP = 4;
const row = { width: USERS.length * (TILE + GAP) - GAP, height: TILE, channels: 3 as const, data: new Uint8Array(0) };
row.data = new Uint8Array(row.width * row.height * 3).fill(255);
for (const [i, user] of USERS.entries()) {
  const tile = decodePng(await get(avatar(user)));
  if (tile.channels !== 3 || tile.width !== TILE || tile.height !== TILE) throw new Error(`${user}: expected a ${TILE}x${TILE} RGB avatar, got ${tile.width}x${tile.height}x${tile.channels}`);
  for (let y = 0; y < TILE; y++) row.data.set(tile.data.subarray(y * TILE * 3, (y + 1) * TILE * 3), (y * row.width + i * (TILE + GAP)) * 3);
}
await writeFileAtomic('docs/avatars.png', encodePng(row, 9));
console.log(`docs/avatars.png <- ${avatar('USER')} for ${USERS.join(', ')}`);
