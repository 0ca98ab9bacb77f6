/**
 * Writes the emoji data set at 64x64 RGB (npm run data:emoji, then the trainer's own folder decoding) as the
 * trainer's cache format, gzipped, for scripts/gpu/: the Node bench and the PyTorch reference read the same file.
 *   node --import tsx scripts/gpu/pack-data.ts OUT.bin.gz [DIR (data/emoji)] [SIZE (64)]
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { loadFolderDataset } from '../../trainer/data/folder.js';

const [out, dir = 'data/emoji', size = '64'] = process.argv.slice(2);
if (!out) {
  process.stderr.write('usage: node --import tsx scripts/gpu/pack-data.ts OUT.bin.gz [DIR] [SIZE]\n');
  process.exit(2);
}
const d = await loadFolderDataset(dir, { imageSize: Number(size), channels: 3, fit: 'crop', background: [255, 255, 255] });
const header = new TextEncoder().encode(JSON.stringify({ count: d.count, classNames: d.classNames }));
const bytes = new Uint8Array(4 + header.length + d.count + d.images.length);
new DataView(bytes.buffer).setUint32(0, header.length);
bytes.set(header, 4);
bytes.set(d.labels.subarray(0, d.count), 4 + header.length);
bytes.set(d.images, 4 + header.length + d.count);
writeFileSync(out, gzipSync(bytes, { level: 9 }));
process.stderr.write(`${out}: ${d.count} images ${size}x${size}x3, ${d.classNames.length} classes\n`);
