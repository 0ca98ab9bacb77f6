/** Reading the worker's numeric `[vars]`: a value that is not a positive number is reported and replaced by the default. */

export function positiveNumberVar(name: string, value: string | undefined, fallback: number, warn: (message: string) => void = console.error): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (Number.isFinite(n) && n > 0) return n;
  warn(`${name}=${JSON.stringify(value)} is not a positive number; using ${fallback}`);
  return fallback;
}
