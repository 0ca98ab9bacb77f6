/**
 * What every command line shares: one error type for bad usage, node:util's parseArgs made one-line, integer and
 * model-id flags. Nothing here loads TensorFlow.js, so commands that only move files (`npm run model:push`) run on a
 * serving-only install (`npm ci --workspaces=false`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MODEL_ID_PATTERN } from '../../shared/manifest.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util's parseArgs (strict), its errors turned into one-line UsageErrors: every CLI parses flags with it. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

/** An integer flag value in [min, max] (any integer notation Number reads, e.g. 1e3). */
export function intFlag(flag: string, value: string | undefined, min: number, max = Infinity): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer ${max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`}, got "${value}"`);
  }
  return n;
}

/** A model id flag (`--id`), checked against the manifest's id pattern; undefined when not given. */
export function modelIdFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !MODEL_ID_PATTERN.test(value)) throw new UsageError(`--id must be lowercase letters, digits and '-', got "${value}"`);
  return value;
}
