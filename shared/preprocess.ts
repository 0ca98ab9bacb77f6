/**
 * Image preprocessing: how any decoded picture becomes a model's input. The trainer's folder loader
 * (trainer/data/folder.ts) and the edge's encode / reconstruct routes call this one function with the options the
 * model's manifest records, so an image sent to the API is exactly what the model saw in training.
 *
 * Order: composite transparent pixels over the background, fit to a square (centre crop, pad, or stretch), resize
 * with an area (box) filter, then keep 1 channel (ITU-R BT.601 luma) or 3. The result is bytes, [h, w, c]; pixel
 * scaling to the model's range is shared/pixels.ts's bytesToPixels.
 */
import type { RasterImage } from './png.js';

export const FIT_MODES = ['crop', 'pad', 'stretch'] as const;
export type FitMode = (typeof FIT_MODES)[number];

export interface PreprocessOptions {
  /** Output side in pixels (square). */
  size: number;
  /** 1 (gray) or 3 (RGB). */
  channels: 1 | 3;
  fit: FitMode;
  /** What transparent pixels are composited over, and what `pad` fills with: [r, g, b] bytes. */
  background: [number, number, number];
}

/** `white`, `black` or `#rrggbb` to [r, g, b]; undefined when it is none of these. */
export function parseBackground(value: string): [number, number, number] | undefined {
  if (value === 'white') return [255, 255, 255];
  if (value === 'black') return [0, 0, 0];
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(value);
  return m ? [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)] : undefined;
}

export function formatBackground([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Area-resampling weights along one axis: output cell i covers source span [i * scale, (i + 1) * scale) of the
 * window [start, start + length); each source pixel weighs by how much of it the span covers (a box filter, exact
 * for downscaling by any factor, nearest-neighbour-like when upscaling). Pixels outside [0, n) are `null` (pad).
 */
function axisWeights(start: number, length: number, size: number, n: number): { index: number[]; weight: number[] }[] {
  const scale = length / size;
  return Array.from({ length: size }, (_, i) => {
    const lo = start + i * scale;
    const hi = lo + scale;
    const index: number[] = [];
    const weight: number[] = [];
    for (let s = Math.floor(lo); s < Math.ceil(hi - 1e-9); s++) {
      const w = Math.min(hi, s + 1) - Math.max(lo, s);
      if (w <= 1e-9) continue;
      index.push(s >= 0 && s < n ? s : -1);
      weight.push(w / scale);
    }
    return { index, weight };
  });
}

/** The source window a fit mode takes: [x0, y0, w, h] in source pixels (may extend outside the image for pad). */
function fitWindow(width: number, height: number, fit: FitMode): [number, number, number, number] {
  if (fit === 'stretch') return [0, 0, width, height];
  const side = fit === 'crop' ? Math.min(width, height) : Math.max(width, height);
  return [(width - side) / 2, (height - side) / 2, side, side];
}

/** Turns a decoded image (any size, gray / RGB / RGBA) into the model's input bytes, [size, size, channels]. */
export function preprocessImage(img: RasterImage, opts: PreprocessOptions): Uint8Array {
  const { size, channels, fit, background } = opts;
  const { data, channels: inChannels } = img;
  const [x0, y0, ww, wh] = fitWindow(img.width, img.height, fit);
  const xs = axisWeights(x0, ww, size, img.width);
  const ys = axisWeights(y0, wh, size, img.height);
  const out = new Uint8Array(size * size * channels);
  const acc = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    const wy = ys[y]!;
    for (let x = 0; x < size; x++) {
      const wx = xs[x]!;
      acc[0] = acc[1] = acc[2] = 0;
      for (let j = 0; j < wy.index.length; j++) {
        const sy = wy.index[j]!;
        for (let i = 0; i < wx.index.length; i++) {
          const sx = wx.index[i]!;
          const w = wy.weight[j]! * wx.weight[i]!;
          if (sy < 0 || sx < 0) {
            for (let c = 0; c < 3; c++) acc[c]! += w * background[c]!;
          } else {
            // Composited over the background here, per source pixel: no full-size copy of a large upload.
            const o = (sy * img.width + sx) * inChannels;
            const a = inChannels === 4 ? data[o + 3]! / 255 : 1;
            for (let c = 0; c < 3; c++) acc[c]! += w * (a * data[o + (inChannels === 1 ? 0 : c)]! + (1 - a) * background[c]!);
          }
        }
      }
      const o = (y * size + x) * channels;
      if (channels === 1) out[o] = clampByte(0.299 * acc[0]! + 0.587 * acc[1]! + 0.114 * acc[2]!);
      else for (let c = 0; c < 3; c++) out[o + c] = clampByte(acc[c]!);
    }
  }
  return out;
}

function clampByte(v: number): number {
  const r = Math.round(v);
  return r > 255 ? 255 : Math.max(r , 0);
}
