/** Hono context helpers shared by middleware. */
import type { Context } from 'hono';

/** The request's waitUntil, or undefined under app.request() (tests), which has no execution context. */
export function waitUntilOf(c: Context): ((p: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return undefined;
  }
}
