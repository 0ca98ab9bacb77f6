/**
 * Waiting on work another request started (a shared load or check): workerd cancels a request as hung when nothing
 * of its own is pending while it waits, because that work's I/O belongs to the request that started it. The waiter
 * therefore holds a timer of its own, which also bounds the wait.
 */

/** `work`'s value, or undefined if `ms` pass first. */
export async function waitWithOwnTimer<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
