/** Latency statistics for the benchmarks. */

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function median(values: number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Completed requests per second over the wall time of the run. */
  perSecond: number;
}

export function summarize(latencies: number[], wallMs: number): LatencySummary {
  const s = [...latencies].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 100) / 100;
  return { count: s.length, p50: r(quantile(s, 0.5)), p95: r(quantile(s, 0.95)), p99: r(quantile(s, 0.99)), max: r(s.at(-1) ?? NaN), perSecond: r((s.length * 1000) / wallMs) };
}
