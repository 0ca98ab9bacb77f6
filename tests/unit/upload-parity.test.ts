/**
 * Training and serving agree on uploads: the same file through the edge's upload path (edge/inference/upload.ts, what POST
 * encode runs) and through the trainer's folder loader gives the same model input, within 1/255.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uploadToInput, type UploadType } from '../../edge/inference/upload.js';
import { loadFolderDataset } from '../../trainer/data/folder.js';
import { bytesToPixels } from '../../shared/pixels.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { formatBackground } from '../../shared/preprocess.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { tempDir } from '../helpers/tmp.js';

const vae = validateManifest(JSON.parse(readFileSync('models/vae-fashion/manifest.json', 'utf8')));

describe('upload parity with the trainer', () => {
  it.each([
    ['png', 'image/png', 3, 'pad', [0, 0, 0]],
    ['jpg', 'image/jpeg', 3, 'crop', [255, 255, 255]],
    ['png', 'image/png', 1, 'stretch', [20, 40, 60]],
  ] as const)('%s as %s, %i channel(s), fit %s', async (ext, type, channels, fit, background) => {
    const folder = await makeImageFolder({ classes: ['only'], perClass: 8, width: 70, height: 50, broken: false });
    const d = await loadFolderDataset(folder.dir, { imageSize: 16, channels, fit, background: [...background], cacheDir: tempDir('cache') }, () => {});
    const manifest = { ...vae, image: { width: 16, height: 16, channels, pixelRange: vae.image.pixelRange, preprocess: { fit, background: formatBackground([...background]) } } } as Manifest;
    // img-0 is a PNG, img-1 a JPEG (formats cycle png, jpg, webp, gif); both sort first among their kind.
    const index = ext === 'png' ? 0 : 1;
    const file = join(folder.dir, 'only', `img-${index}.${ext}`);
    const served = uploadToInput(new Uint8Array(readFileSync(file)), type as UploadType, manifest);
    const px = 16 * 16 * channels;
    const sortedIndex = ['img-0.png', 'img-1.jpg', 'img-2.webp', 'img-3.gif', 'img-5.jpg', 'img-6.webp', 'img-7.gif'].indexOf(`img-${index}.${ext}`);
    const trained = bytesToPixels(d.images.subarray(sortedIndex * px, (sortedIndex + 1) * px), manifest.image.pixelRange);
    // The trainer's bytes are HWC, the encoder's input NCHW.
    const hwc = new Float32Array(px);
    for (let p = 0; p < 256; p++) for (let c = 0; c < channels; c++) hwc[p * channels + c] = served[c * 256 + p]!;
    const maxDiff = Math.max(...hwc.map((v, i) => Math.abs(v - trained[i]!)));
    expect(maxDiff).toBeLessThanOrEqual(1 / 255 + 1e-6);
  });
});
