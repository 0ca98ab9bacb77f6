/**
 * The two HTML pages (the playground and the API docs) with a Content-Security-Policy: scripts only from this
 * origin or inline with this response's nonce, wasm compilation for onnxruntime-web, images from this origin, blobs
 * and data URLs, requests to this origin only, no plugins, no framing, no <base>.
 */
import type { Context } from 'hono';

function csp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** `html` with a fresh nonce on each of its inline scripts, and the policy that admits them. */
export function htmlPage(c: Context, html: string): Response {
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  c.header('Content-Security-Policy', csp(nonce));
  return c.html(html.replaceAll('<script', `<script nonce="${nonce}"`));
}
