/** The one error type of the edge API and the one handler that turns errors into JSON responses. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const ERROR_CODES = [
  'not_found',
  'invalid_parameter',
  'unknown_parameter',
  'invalid_body',
  'payload_too_large',
  'unsupported_media_type',
  'not_supported',
  'model_unavailable',
  'rate_limited',
  'unauthorized',
  'conflict',
  'invalid_model',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    /** What would have been accepted, when that is short enough to say. */
    readonly allowed?: unknown,
    /** Response headers the error implies (Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; allowed?: unknown };
}

export function errorResponse(c: Context, err: HttpError): Response {
  const body: ErrorBody = { error: { code: err.code, message: err.message, ...(err.allowed !== undefined ? { allowed: err.allowed } : {}) } };
  return c.json(body, err.status, { 'Cache-Control': 'no-store', ...err.headers });
}

/**
 * Hono's onError: HttpErrors as they are; a 4xx HTTPException of Hono's own middleware (the validator's "Malformed
 * JSON in request body") as a bad body; anything else is a bug, logged and answered with a bare 500.
 */
export function onError(err: Error, c: Context): Response {
  if (err instanceof HttpError) return errorResponse(c, err);
  if (err instanceof HTTPException && err.status >= 400 && err.status < 500) return errorResponse(c, new HttpError(err.status, 'invalid_body', err.message));
  console.error('unhandled error', err);
  return errorResponse(c, new HttpError(500, 'internal', 'internal error'));
}

export function notFound(c: Context): Response {
  return errorResponse(c, new HttpError(404, 'not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}; see GET /v1/models`));
}
