/** Line charts as standalone SVG strings: no dependency, readable in any browser and embeddable in HTML. */

export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Dashed horizontal reference lines (e.g. FCD of real data). */
  references?: { name: string; y: number }[];
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const MAX_POINTS = 400;

/** Text made safe inside SVG / HTML markup and attributes. */
export const escapeMarkup = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Bucket means, so a 10k-step loss curve stays a few hundred points and shows its trend through the noise. */
export function downsample(points: [number, number][], max = MAX_POINTS): [number, number][] {
  if (points.length <= max) return points;
  const size = points.length / max;
  return Array.from({ length: max }, (_, b) => {
    const chunk = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    return [chunk.reduce((s, p) => s + p[0], 0) / chunk.length, chunk.reduce((s, p) => s + p[1], 0) / chunk.length] as [number, number];
  });
}

/** Round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 300;
  const m = { left: 56, right: 16, top: 32, bottom: 40 };
  const data = series.map((s) => ({ ...s, points: downsample(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) }));
  const xs = data.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...data.flatMap((s) => s.points.map((p) => p[1])), ...(o.references ?? []).map((r) => r.y)];
  if (xs.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-family="sans-serif">${escapeMarkup(o.title)}: no data</text></svg>`;
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (W - m.left - m.right);
  const sy = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4))));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${m.left}" y="18" font-size="13" font-weight="600">${escapeMarkup(o.title)}</text>`,
  ];
  for (const t of ticks(y0, y1)) parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e5e7eb"/><text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
  for (const t of ticks(x0, x1)) parts.push(`<text x="${sx(t).toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle" fill="#555">${fmt(t)}</text>`);
  parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 6}" text-anchor="middle" fill="#333">${escapeMarkup(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(14 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeMarkup(o.yLabel)}</text>`);
  for (const r of o.references ?? []) parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${sy(r.y).toFixed(1)}" y2="${sy(r.y).toFixed(1)}" stroke="#6b7280" stroke-dasharray="4 3"/><text x="${W - m.right - 4}" y="${(sy(r.y) - 4).toFixed(1)}" text-anchor="end" fill="#6b7280">${escapeMarkup(r.name)}</text>`);
  data.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${path}"/>`);
    if (s.points.length <= 40) for (const [x, y] of s.points) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    parts.push(`<rect x="${W - m.right - 130}" y="${m.top + i * 16 - 8}" width="10" height="10" fill="${color}"/><text x="${W - m.right - 115}" y="${m.top + i * 16 + 1}">${escapeMarkup(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
