/**
 * A failed validation (schemas.ts, run by Hono's validator middleware) as the API's one error type: the first
 * issue, with the schema's own message naming the parameter or field and what is allowed. An unknown query
 * parameter is `unknown_parameter` with the route's parameter names; the rest of the query, `invalid_parameter`;
 * a body, `invalid_body`.
 */
import { validator } from 'hono/validator';
import type { z } from '@hono/zod-openapi';
import { HttpError } from '../api/errors.js';
import { NoQuery, pathName } from '../api/schemas.js';

type Result = { success: true } | { success: false; error: z.ZodError; target: string };

/**
 * The hook of a route whose query is `query` (and whose JSON body, if any, is `body`): throws on a failed validation.
 * It takes no Context parameter on purpose: a `Context` there (whose path type defaults to any) would make
 * @hono/zod-openapi infer the route's path as any, and the client (client/, Hono's hc) would lose every route.
 */
export function rejectInvalid(query: z.ZodObject, body?: z.ZodObject) {
  return (result: Result): undefined => {
    if (result.success) return undefined;
    throw toHttpError(result.error, result.target, Object.keys((result.target === 'json' ? body : query)?.shape ?? {}));
  };
}

export function toHttpError(error: z.ZodError, target: string, names: string[]): HttpError {
  const issues = error.issues;
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (target === 'query') {
    if (unknown) return new HttpError(400, 'unknown_parameter', `unknown query parameter "${unknown.keys[0]}"`, names);
    const first = issues[0]!;
    return new HttpError(400, 'invalid_parameter', first.message, allowedOf(first));
  }
  const first = unknown ?? issues[0]!;
  // zod's own wording ("Invalid input: ...") does not say where: prefix the field.
  const message = first.message.startsWith('Invalid input') ? `"${pathName(first.path)}": ${first.message}` : first.message;
  return new HttpError(400, target === 'json' ? 'invalid_body' : 'invalid_parameter', message, unknown ? names : allowedOf(first));
}

const allowedOf = (issue: z.core.$ZodIssue): unknown => (issue as { params?: { allowed?: unknown } }).params?.allowed;

/** Hono's validator middleware for routes that take no query parameters (the admin API, the docs). */
export const noQuery = validator('query', (value) => {
  const r = NoQuery.safeParse(value);
  if (!r.success) throw toHttpError(r.error, 'query', []);
  return r.data;
});
