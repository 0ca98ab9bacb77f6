/**
 * Every PNG and JPEG variant a user's folder holds, written by sharp (libvips) from one picture: each PNG colour type
 * (gray, RGB, palette, gray + alpha, RGBA), the low and 16-bit depths, Adam7 interlacing, tRNS transparency, and
 * baseline, progressive, grayscale, 4:4:4 and CMYK JPEGs. tests/unit/upload-parity.test.ts checks that the encode
 * route and the trainer read each the same way, and like libvips does; tests/e2e/own-folder.test.ts trains on them.
 * Node only (sharp).
 */
import sharp from 'sharp';

export interface ImageVariant {
  /** File name, its extension the format. */
  file: string;
  bytes: Uint8Array;
  /** What the file is, in the words of the PNG / JPEG specifications. */
  what: string;
}

/** A 37x29 picture (odd sides exercise Adam7's partial passes) with a colour gradient, a disc and a see-through edge. */
export function variantPicture(width = 37, height = 29): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const disc = Math.hypot(x - width / 2, y - height / 2) < 0.3 * Math.min(width, height);
      data[o] = Math.round((255 * x) / (width - 1));
      data[o + 1] = disc ? 230 : Math.round((255 * y) / (height - 1));
      data[o + 2] = disc ? 20 : 128;
      data[o + 3] = x < 4 ? 0 : x < 8 ? 128 : 255;
    }
  }
  return data;
}

/** The variants, each from `variantPicture()`; `opaque` ones are flattened over white first (JPEG has no alpha). */
export async function imageVariants(width = 37, height = 29): Promise<ImageVariant[]> {
  const rgba = Buffer.from(variantPicture(width, height));
  const src = () => sharp(rgba, { raw: { width, height, channels: 4 } });
  const opaque = () => src().flatten({ background: '#ffffff' });
  const buf = async (s: ReturnType<typeof sharp>) => new Uint8Array(await s.toBuffer());
  // A 16-bit source: the same picture scaled to 0..65535 (sharp writes 16-bit PNGs from 16-bit input).
  const rgba16 = new Uint16Array(width * height * 4).map((_, i) => rgba[i]! * 257 + (i % 7));
  const src16 = () => sharp(Buffer.from(rgba16.buffer), { raw: { width, height, channels: 4, premultiplied: false } }).toColourspace('rgb16');
  const grey16 = new Uint16Array(width * height).map((_, i) => rgba[4 * i]! * 257 + (i % 5));
  return [
    { file: 'png-rgba-8.png', what: 'RGBA, 8-bit', bytes: await buf(src().png()) },
    { file: 'png-rgb-8.png', what: 'RGB, 8-bit', bytes: await buf(opaque().png()) },
    { file: 'png-gray-8.png', what: 'grayscale, 8-bit', bytes: await buf(opaque().greyscale().toColourspace('b-w').png()) },
    { file: 'png-gray-alpha-8.png', what: 'grayscale + alpha, 8-bit', bytes: await buf(src().greyscale().toColourspace('b-w').png()) },
    { file: 'png-palette-8.png', what: 'palette, 8-bit, with tRNS', bytes: await buf(src().png({ palette: true, colours: 256, dither: 0 })) },
    { file: 'png-palette-4.png', what: 'palette, 4-bit', bytes: await buf(opaque().png({ palette: true, colours: 16, dither: 0 })) },
    { file: 'png-palette-2.png', what: 'palette, 2-bit', bytes: await buf(opaque().png({ palette: true, colours: 4, dither: 0 })) },
    { file: 'png-palette-1.png', what: 'palette, 1-bit', bytes: await buf(opaque().png({ palette: true, colours: 2, dither: 0 })) },
    { file: 'png-rgba-16.png', what: 'RGBA, 16-bit', bytes: await buf(src16().png()) },
    { file: 'png-gray-16.png', what: 'grayscale, 16-bit', bytes: await buf(sharp(Buffer.from(grey16.buffer), { raw: { width, height, channels: 1 } }).toColourspace('grey16').png()) },
    { file: 'png-rgba-8-adam7.png', what: 'RGBA, 8-bit, Adam7 interlaced', bytes: await buf(src().png({ progressive: true })) },
    { file: 'png-palette-4-adam7.png', what: 'palette, 4-bit, Adam7 interlaced', bytes: await buf(opaque().png({ palette: true, colours: 16, progressive: true, dither: 0 })) },
    { file: 'png-rgba-16-adam7.png', what: 'RGBA, 16-bit, Adam7 interlaced', bytes: await buf(src16().png({ progressive: true })) },
    { file: 'jpeg-baseline.jpg', what: 'baseline JPEG, 4:2:0', bytes: await buf(opaque().jpeg({ quality: 90 })) },
    { file: 'jpeg-444.jpg', what: 'baseline JPEG, 4:4:4', bytes: await buf(opaque().jpeg({ quality: 90, chromaSubsampling: '4:4:4' })) },
    { file: 'jpeg-progressive.jpg', what: 'progressive JPEG', bytes: await buf(opaque().jpeg({ quality: 90, progressive: true })) },
    { file: 'jpeg-gray.jpg', what: 'grayscale JPEG', bytes: await buf(opaque().greyscale().jpeg({ quality: 90 })) },
    { file: 'jpeg-cmyk.jpg', what: 'CMYK JPEG (Adobe)', bytes: await buf(opaque().toColourspace('cmyk').jpeg({ quality: 90 })) },
  ];
}

/** The PNG header's bit depth, colour type and interlace method, to check that a variant is what it says. */
export function pngHeader(bytes: Uint8Array): { depth: number; color: number; interlace: number } {
  return { depth: bytes[24]!, color: bytes[25]!, interlace: bytes[28]! };
}
