/** Request bodies at the edge of a route: size cap, content type, then parsing, each with its own 4xx. */
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { HttpError } from '../api/errors.js';
import { MAX_BODY_BYTES } from '../api/limits.js';

/** The request's Content-Type, which must be one of `types` (a 415 listing them otherwise). */
export function requireType<T extends string>(c: Context, types: readonly T[]): T {
  const got = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!types.includes(got as T)) throw new HttpError(415, 'unsupported_media_type', `Content-Type must be ${types.join(' or ')}, got "${got || '(none)'}"`, [...types]);
  return got as T;
}

/** The raw body (its Content-Type one of `types`), refusing more than `maxBytes` whether or not Content-Length says so. */
export async function readBody(c: Context, types: string | readonly string[], maxBytes: number = MAX_BODY_BYTES): Promise<Uint8Array> {
  requireType(c, typeof types === 'string' ? [types] : types);
  const tooLarge = () => new HttpError(413, 'payload_too_large', `request body must be at most ${maxBytes} bytes`, { maxBytes });
  const declared = Number(c.req.header('Content-Length') ?? '0');
  if (declared > maxBytes) throw tooLarge();
  const stream = c.req.raw.body;
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  chunks.reduce((o, ch) => (out.set(ch, o), o + ch.length), 0);
  return out;
}

/**
 * The middleware of a JSON body that Hono's validator then parses: JSON only (415 otherwise), at most
 * MAX_BODY_BYTES (413, whatever Content-Length says: Hono's body-limit counts a stream without one).
 */
export const jsonBody = [
  createMiddleware(async (c, next) => {
    requireType(c, ['application/json']);
    await next();
  }),
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new HttpError(413, 'payload_too_large', `request body must be at most ${MAX_BODY_BYTES} bytes`, { maxBytes: MAX_BODY_BYTES });
    },
  }),
];
