/**
 * The playground puts no server-provided string through an HTML parser: it builds its DOM with textContent
 * (manifest descriptions and class labels come from uploads), and it has no inline script for a CSP to allow.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('pages', () => {
  it('the playground never assigns innerHTML, outerHTML or insertAdjacentHTML, and uses no inline script', () => {
    const script = readFileSync('edge/pages/playground.ts', 'utf8');
    expect(script).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/);
    const html = readFileSync('edge/pages/playground.html', 'utf8');
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/pages/playground.js">']);
  });

});
