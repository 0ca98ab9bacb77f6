/**
 * Training and serving agree on uploads: the same file through the edge's upload path (edge/inference/upload.ts, what POST
 * encode runs) and through the trainer's folder loader gives the same model input, within 1/255, for every PNG and
 * JPEG variant (tests/corpus/image-variants.ts); and the shared decoder reads each PNG as libvips does.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { zlibSync } from 'fflate';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uploadToInput, type UploadType } from '../../edge/inference/upload.js';
import { loadFolderDataset } from '../../trainer/data/folder.js';
import { bytesToPixels } from '../../shared/pixels.js';
import { validateManifest, type Manifest } from '../../shared/manifest.js';
import { formatBackground } from '../../shared/preprocess.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { tempDir } from '../helpers/tmp.js';
import { imageVariants, pngHeader } from '../corpus/image-variants.js';
import { ihdr, pngChunk, pngFile } from '../corpus/hostile-png.js';
import { decodeImage, sniffImageType } from '../../shared/decode-image.js';

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

describe('every PNG and JPEG variant', () => {
  it('the variants are what they say (header bytes)', async () => {
    const headers = Object.fromEntries((await imageVariants()).filter((v) => v.file.endsWith('.png')).map((v) => [v.file, pngHeader(v.bytes)]));
    expect(headers['png-gray-alpha-8.png']).toEqual({ depth: 8, color: 4, interlace: 0 });
    expect(headers['png-palette-1.png']).toEqual({ depth: 1, color: 3, interlace: 0 });
    expect(headers['png-rgba-16-adam7.png']).toEqual({ depth: 16, color: 6, interlace: 1 });
    expect(headers['png-gray-16.png']).toEqual({ depth: 16, color: 0, interlace: 0 });
  });

  it('the trainer takes every one, and the encode route gives the same input for each', async () => {
    const variants = await imageVariants();
    const dir = tempDir('variants');
    mkdirSync(join(dir, 'only'));
    for (const v of variants) writeFileSync(join(dir, 'only', v.file), v.bytes);
    const background: [number, number, number] = [20, 40, 60];
    const d = await loadFolderDataset(dir, { imageSize: 16, channels: 3, fit: 'pad', background, cacheDir: tempDir('cache') }, () => {});
    expect(d.skipped).toEqual([]);
    expect(d.count).toBe(variants.length);
    const manifest = { ...vae, image: { width: 16, height: 16, channels: 3, pixelRange: vae.image.pixelRange, preprocess: { fit: 'pad', background: formatBackground(background) } } } as Manifest;
    const px = 16 * 16 * 3;
    const sorted = variants.map((v) => v.file).sort();
    for (const v of variants) {
      const served = uploadToInput(v.bytes, sniffImageType(v.bytes) as UploadType, manifest);
      const i = sorted.indexOf(v.file);
      const trained = bytesToPixels(d.images.subarray(i * px, (i + 1) * px), manifest.image.pixelRange);
      let maxDiff = 0;
      for (let p = 0; p < 256; p++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(served[c * 256 + p]! - trained[p * 3 + c]!));
      expect(maxDiff, v.file).toBeLessThanOrEqual(1 / 255 + 1e-6);
    }
  });

  it('each PNG decodes to the pixels libvips (sharp) reads: exact at 8 bits and below, within 1 level at 16', async () => {
    for (const v of (await imageVariants()).filter((x) => x.file.endsWith('.png'))) {
      const ours = decodeImage(v.bytes, 'image/png', 2048 * 2048);
      const { data: ref } = await sharp(v.bytes).toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      let maxDiff = 0;
      for (let p = 0; p < ours.width * ours.height; p++) {
        for (let c = 0; c < 4; c++) {
          const value = ours.channels === 4 ? ours.data[p * 4 + c]! : c === 3 ? 255 : ours.data[p * ours.channels + (ours.channels === 1 ? 0 : c)]!;
          maxDiff = Math.max(maxDiff, Math.abs(value - ref[p * 4 + c]!));
        }
      }
      expect(maxDiff, v.file).toBeLessThanOrEqual(pngHeader(v.bytes).depth === 16 ? 1 : 0);
    }
  });

  it('gray at 2 bits scales to 0, 85, 170, 255; tRNS makes one gray or RGB value transparent', () => {
    const header = (w: number, depth: number, color: number) => {
      const h = ihdr(w, 1, color);
      h[16] = depth;
      return pngChunk('IHDR', h.subarray(8, 21));
    };
    const gray2 = pngFile(header(4, 2, 0), pngChunk('IDAT', zlibSync(Uint8Array.from([0, 0b00011011]))), pngChunk('IEND', new Uint8Array(0)));
    expect(decodeImage(gray2, 'image/png', 16)).toEqual({ width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 85, 170, 255]) });
    const grayKey = pngFile(header(2, 8, 0), pngChunk('tRNS', Uint8Array.from([0, 7])), pngChunk('IDAT', zlibSync(Uint8Array.from([0, 7, 9]))), pngChunk('IEND', new Uint8Array(0)));
    expect(Array.from(decodeImage(grayKey, 'image/png', 16).data)).toEqual([7, 7, 7, 0, 9, 9, 9, 255]);
    const rgbKey = pngFile(header(2, 8, 2), pngChunk('tRNS', Uint8Array.from([0, 1, 0, 2, 0, 3])), pngChunk('IDAT', zlibSync(Uint8Array.from([0, 1, 2, 3, 1, 2, 4]))), pngChunk('IEND', new Uint8Array(0)));
    expect(Array.from(decodeImage(rgbKey, 'image/png', 16).data)).toEqual([1, 2, 3, 0, 1, 2, 4, 255]);
    // A short key would read its missing bytes as 0 and make black transparent: refused instead.
    const shortKey = pngFile(header(2, 8, 2), pngChunk('tRNS', Uint8Array.from([0, 1])), pngChunk('IDAT', zlibSync(Uint8Array.from([0, 0, 0, 0, 1, 2, 4]))), pngChunk('IEND', new Uint8Array(0)));
    expect(() => decodeImage(shortKey, 'image/png', 16)).toThrow('PNG tRNS chunk of an RGB image must be 6 bytes');
    const shortGray = pngFile(header(2, 8, 0), pngChunk('tRNS', Uint8Array.from([0])), pngChunk('IDAT', zlibSync(Uint8Array.from([0, 0, 9]))), pngChunk('IEND', new Uint8Array(0)));
    expect(() => decodeImage(shortGray, 'image/png', 16)).toThrow('PNG tRNS chunk of a gray image must be 2 bytes');
  });

  it('one limit, said the same way for PNG and JPEG', async () => {
    const big = { width: 3000, height: 2000, channels: 3 as const, background: '#808080' };
    const png = new Uint8Array(await sharp({ create: big }).png().toBuffer());
    const jpeg = new Uint8Array(await sharp({ create: big }).jpeg().toBuffer());
    expect(() => decodeImage(png, 'image/png', 2048 * 2048)).toThrow('PNG is 3000 x 2000 = 6000000 pixels, over the limit of 4194304 pixels (2048 x 2048)');
    expect(() => decodeImage(jpeg, 'image/jpeg', 2048 * 2048)).toThrow('JPEG is 3000 x 2000 = 6000000 pixels, over the limit of 4194304 pixels (2048 x 2048)');
  });
});
