import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { miniflareBundlePath, patchMiniflareSource } from '../../scripts/patch-miniflare.mjs';

const arena = [
  'function allocate$1(minSize, segments, s) {',
  '  const srcBuffer = segments.length > 0 ? segments[0].buffer : s.buffer;',
  '  minSize = minSize < MIN_SINGLE_SEGMENT_GROWTH ? MIN_SINGLE_SEGMENT_GROWTH : padToWord$1(minSize);',
  '  s.buffer = new ArrayBuffer(srcBuffer.byteLength + minSize);',
  '  new Float64Array(s.buffer).set(new Float64Array(srcBuffer));',
  '  return new ArenaAllocationResult(0, s.buffer);',
  '}',
].join('\n');

describe('patch-miniflare (postinstall)', () => {
  it('makes the single-segment arena grow geometrically, once', () => {
    const first = patchMiniflareSource(arena);
    expect(first.status).toBe('patched');
    expect(first.source).toContain('new ArrayBuffer(srcBuffer.byteLength + Math.max(minSize, srcBuffer.byteLength))');
    expect(first.source).not.toContain('srcBuffer.byteLength + minSize)');
    expect(first.source.split('\n')).toHaveLength(arena.split('\n').length);
    const again = patchMiniflareSource(first.source);
    expect(again).toEqual({ source: first.source, status: 'already' });
  });

  it('leaves code it does not recognise as it is', () => {
    const other = arena.replace('+ minSize', '* 2 + minSize');
    expect(patchMiniflareSource(other)).toEqual({ source: other, status: 'not-found' });
    const twice = `${arena}\n${arena}`;
    expect(patchMiniflareSource(twice)).toEqual({ source: twice, status: 'not-found' });
  });

  it('has patched the installed miniflare (npm ci ran the postinstall)', () => {
    const path = miniflareBundlePath();
    expect(path).toMatch(/miniflare/);
    expect(patchMiniflareSource(readFileSync(path!, 'utf8')).status).toBe('already');
  });
});
