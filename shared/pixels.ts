/**
 * Pixel conventions. Data sets store bytes 0..255; a model sees and produces floats in its manifest's pixel range.
 * These two functions are the only place where one is turned into the other, on both sides.
 */

export const PIXEL_RANGES = ['-1..1', '0..1'] as const;
export type PixelRange = (typeof PIXEL_RANGES)[number];

export function pixelBounds(range: PixelRange): [number, number] {
  return range === '-1..1' ? [-1, 1] : [0, 1];
}

/** Bytes 0..255 to floats in `range` (0 maps to the low end, 255 to the high end). */
export function bytesToPixels(bytes: Uint8Array, range: PixelRange, out = new Float32Array(bytes.length)): Float32Array {
  const [lo, hi] = pixelBounds(range);
  const scale = (hi - lo) / 255;
  for (let i = 0; i < bytes.length; i++) out[i] = lo + bytes[i]! * scale;
  return out;
}

/** Floats in `range` to bytes, rounded to nearest and clamped (NaN becomes 0). */
export function pixelsToBytes(pixels: ArrayLike<number>, range: PixelRange, out = new Uint8Array(pixels.length)): Uint8Array {
  const [lo, hi] = pixelBounds(range);
  const scale = 255 / (hi - lo);
  for (let i = 0; i < pixels.length; i++) {
    const v = Math.round((pixels[i]! - lo) * scale);
    out[i] = v > 255 ? 255 : Math.max(v , 0);
  }
  return out;
}
