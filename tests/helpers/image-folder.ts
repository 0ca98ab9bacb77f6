/**
 * Small real image folders made on the fly with sharp: PNG, JPEG, WebP and GIF files in class subfolders, plus the
 * broken files a real folder holds (corrupt, truncated, zero-byte, not an image at all).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from './tmp.js';

export const IMAGE_FORMATS = ['png', 'jpg', 'webp', 'gif'] as const;

/** An RGBA picture whose colour depends on `cls` and whose layout on `i`: classes differ visibly. */
export function pictureRgba(cls: number, i: number, width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const inside = Math.hypot(x - width / 2, y - height / 2) < (0.25 + 0.05 * (i % 4)) * Math.min(width, height);
      data[o] = cls === 0 ? 220 : 30;
      data[o + 1] = inside ? 40 + 10 * i : 200;
      data[o + 2] = cls === 1 ? 220 : 30;
      data[o + 3] = inside ? 255 : 0; // transparent outside the disc: composited over the background
    }
  }
  return data;
}

export async function writePicture(path: string, rgba: Uint8Array, width: number, height: number): Promise<void> {
  const img = sharp(Buffer.from(rgba), { raw: { width, height, channels: 4 } });
  const format = path.split('.').pop()!;
  if (format === 'jpg') await img.flatten({ background: '#ffffff' }).jpeg({ quality: 95 }).toFile(path);
  else if (format === 'webp') await img.webp({ lossless: true }).toFile(path);
  else if (format === 'gif') await img.gif().toFile(path);
  else await img.png().toFile(path);
}

export interface ImageFolder {
  dir: string;
  /** Decodable images per class. */
  perClass: number;
  classes: string[];
  /** Broken image files written beside them (each must be skipped). */
  broken: string[];
}

/** `perClass` images in each of the `classes` subfolders, formats cycling through IMAGE_FORMATS, plus broken files. */
export async function makeImageFolder(opts: { classes?: string[]; perClass?: number; width?: number; height?: number; broken?: boolean } = {}): Promise<ImageFolder> {
  const { classes = ['circles', 'squares'], perClass = 12, width = 40, height = 40, broken = true } = opts;
  const dir = tempDir('image-folder');
  for (const [c, name] of classes.entries()) {
    mkdirSync(join(dir, name, 'nested'), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const sub = i % 5 === 4 ? join(name, 'nested') : name; // found recursively
      await writePicture(join(dir, sub, `img-${i}.${IMAGE_FORMATS[i % IMAGE_FORMATS.length]}`), pictureRgba(c, i, width, height), width, height);
    }
  }
  const brokenFiles: string[] = [];
  if (broken) {
    const first = classes[0]!;
    const files: Record<string, Uint8Array | string> = {
      [`${first}/zero-bytes.webp`]: new Uint8Array(0),
      [`${first}/corrupt.png`]: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(60).fill(7)]),
      [`${first}/text-named.jpg`]: 'this is not a JPEG',
    };
    const jpeg = await sharp(Buffer.from(pictureRgba(0, 1, width, height)), { raw: { width, height, channels: 4 } }).flatten().jpeg().toBuffer();
    files[`${first}/truncated.jpg`] = new Uint8Array(jpeg.subarray(0, Math.floor(jpeg.length / 3)));
    for (const [rel, content] of Object.entries(files)) writeFileSync(join(dir, rel), content);
    brokenFiles.push(...Object.keys(files).sort());
    writeFileSync(join(dir, first, 'README.txt'), 'not an image extension: never looked at');
  }
  return { dir, perClass, classes, broken: brokenFiles };
}
