/** shared/preprocess.ts: compositing, fitting and area resizing against values worked out by hand. */
import { describe, expect, it } from 'vitest';
import { formatBackground, parseBackground, preprocessImage } from '../../shared/preprocess.js';

const WHITE: [number, number, number] = [255, 255, 255];

describe('preprocessImage', () => {
  it('a 2x downscale averages each 2x2 block (area filter)', () => {
    const data = Uint8Array.from([0, 100, 10, 30, 200, 100, 50, 70, 1, 3, 7, 9, 5, 7, 11, 13]); // 4x4 gray
    const out = preprocessImage({ width: 4, height: 4, channels: 1, data }, { size: 2, channels: 1, fit: 'stretch', background: WHITE });
    expect([...out]).toEqual([100, 40, 4, 10]);
  });

  it('a 3 -> 2 downscale weighs the shared middle pixel by the area it covers', () => {
    // Output cell 0 covers source [0, 1.5): pixel 0 fully, pixel 1 half: (0 * 1 + 90 * 0.5) / 1.5 = 30.
    const data = Uint8Array.from([0, 90, 180, 0, 90, 180, 0, 90, 180]);
    const out = preprocessImage({ width: 3, height: 3, channels: 1, data }, { size: 2, channels: 1, fit: 'stretch', background: WHITE });
    expect([...out]).toEqual([30, 150, 30, 150]);
  });

  it('composites alpha over the background, and gray is BT.601 luma', () => {
    const rgba = Uint8Array.from([255, 0, 0, 128, 0, 0, 255, 0]); // half-transparent red, fully transparent blue
    const rgb = preprocessImage({ width: 2, height: 1, channels: 4, data: rgba }, { size: 2, channels: 3, fit: 'stretch', background: WHITE });
    // 1x2 stretched to 2x2: each row repeats. Red at alpha 128/255 over white: 255, 255 * 127/255 = 127.
    expect([...rgb.subarray(0, 6)]).toEqual([255, 127, 127, 255, 255, 255]);
    const gray = preprocessImage({ width: 1, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0]) }, { size: 1, channels: 1, fit: 'crop', background: WHITE });
    expect(gray[0]).toBe(Math.round(0.299 * 255));
  });

  it('crop takes the centred square, pad fills the sides with the background', () => {
    // 4x2: columns 0..3 are 10, 20, 30, 40.
    const data = Uint8Array.from([10, 20, 30, 40, 10, 20, 30, 40]);
    const crop = preprocessImage({ width: 4, height: 2, channels: 1, data }, { size: 2, channels: 1, fit: 'crop', background: WHITE });
    expect([...crop]).toEqual([20, 30, 20, 30]);
    const pad = preprocessImage({ width: 4, height: 2, channels: 1, data }, { size: 2, channels: 1, fit: 'pad', background: [0, 0, 0] });
    // The 4x4 window has one black row above and below: top cells average a black row and an image row.
    expect([...pad]).toEqual([8, 18, 8, 18]);
  });

  it('upscaling by an integer factor repeats pixels', () => {
    const out = preprocessImage({ width: 2, height: 1, channels: 3, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) }, { size: 4, channels: 3, fit: 'stretch', background: WHITE });
    expect([...out.subarray(0, 12)]).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  });
});

describe('backgrounds', () => {
  it('parses white, black and #rrggbb, and nothing else', () => {
    expect(parseBackground('white')).toEqual([255, 255, 255]);
    expect(parseBackground('black')).toEqual([0, 0, 0]);
    expect(parseBackground('#0a80Ff')).toEqual([10, 128, 255]);
    expect(formatBackground([10, 128, 255])).toBe('#0a80ff');
    for (const bad of ['', 'red', '#fff', '#gggggg', '0a80ff']) expect(parseBackground(bad)).toBeUndefined();
  });
});
