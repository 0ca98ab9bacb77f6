/**
 * `npm run report -- runs/NAME`: one HTML page per run (also written at the end of every `npm run train`): loss
 * curves, the per-epoch FCD / classifier score / class accuracy with the real-data reference, the final numbers,
 * and every sample grid. Charts are inline SVG, also saved as losses.svg and metrics.svg for linking elsewhere.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './cli/main.js';
import { UsageError } from './cli/options.js';
import { writeFileAtomic } from './run/atomic.js';
import { escapeMarkup, lineChart, type Series } from './eval/chart.js';
import { EVALS_FILE, type EvalRecord } from './eval/epoch-eval.js';

/** The records of a JSON-lines file; none when it does not exist yet. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
  } catch {
    return [];
  }
}

/** `backend`: what the run trained on last (train.ts passes it; a standalone report leaves it out). */
export async function writeReport(runDir: string, log: (line: string) => void = () => {}, backend?: string): Promise<string> {
  let config: { family: string; config: Record<string, unknown>; seed: number; batchSize: number };
  try {
    config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'));
  } catch {
    throw new UsageError(`${runDir} is not a training run (no config.json)`);
  }
  const steps = await readJsonLines<Record<string, number>>(join(runDir, 'metrics.jsonl'));
  const evals = await readJsonLines<EvalRecord>(join(runDir, EVALS_FILE));
  const grids = (await readdir(join(runDir, 'samples')).catch(() => [] as string[])).filter((f) => f.endsWith('.png')).sort();

  const lossKeys = [...new Set(steps.flatMap((s) => Object.keys(s)))].filter((k) => !['step', 'epoch', 'time'].includes(k));
  const losses = lineChart(lossKeys.map((k): Series => ({ name: k, points: steps.filter((s) => k in s).map((s) => [s['epoch']!, s[k]!]) })), { title: 'Training losses (bucket means)', xLabel: 'epoch' });
  const ref = evals.at(-1)?.fcdRealReference;
  const fcd = lineChart([{ name: 'FCD', points: evals.map((e) => [e.epoch, e.fcd]) }], {
    title: `FCD to the test set (N = ${evals.at(-1)?.n ?? '?'}; lower is better)`,
    xLabel: 'epoch',
    ...(ref !== undefined ? { references: [{ name: `real vs real ${ref.toFixed(2)}`, y: ref }] } : {}),
  });
  const scoreSeries: Series[] = [{ name: 'classifier score', points: evals.map((e) => [e.epoch, e.classifierScore]) }];
  const accuracy = evals.some((e) => e.classAccuracy !== undefined);
  const score = lineChart(scoreSeries, { title: 'Classifier score (higher is better, at most 10)', xLabel: 'epoch' });
  const classAcc = accuracy ? lineChart([{ name: 'class accuracy', points: evals.map((e) => [e.epoch, e.classAccuracy ?? NaN]) }], { title: 'cGAN: samples classified as the class asked for', xLabel: 'epoch' }) : '';
  await writeFileAtomic(join(runDir, 'losses.svg'), losses);
  await writeFileAtomic(join(runDir, 'metrics.svg'), fcd);

  const last = steps.at(-1);
  const final = evals.at(-1);
  const row = (k: string, v: unknown) => `<tr><th>${escapeMarkup(k)}</th><td>${escapeMarkup(typeof v === 'number' ? String(Number(v.toPrecision(6))) : typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeMarkup(config.family)} run report: ${escapeMarkup(runDir)}</title>
<style>
body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #111; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; } th, td { border-bottom: 1px solid #ddd; padding: 2px 12px 2px 0; text-align: left; vertical-align: top; }
.charts, .grids { display: flex; flex-wrap: wrap; gap: 1rem; } svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figure { margin: 0; } figure img { image-rendering: pixelated; width: 224px; border: 1px solid #ddd; } figcaption { font-size: 12px; color: #555; }
</style></head><body>
<h1>${escapeMarkup(config.family)}: <code>${escapeMarkup(runDir)}</code></h1>
<table>${row('steps', last?.['step'] ?? 0)}${row('epochs', last ? Number(last['epoch']!.toFixed(2)) : 0)}${row('wall time (s)', last ? Math.round(last['time']!) : 0)}${row('batch size', config.batchSize)}${row('seed', config.seed)}${backend !== undefined ? row('backend', backend) : ''}${row('config', config.config)}</table>
<h2>Final numbers</h2>
${final ? `<table>${row('FCD', final.fcd)}${row('FCD real vs real (floor at this N)', final.fcdRealReference)}${row('classifier score', final.classifierScore)}${final.classAccuracy !== undefined ? row('class accuracy', final.classAccuracy) : ''}${final.classAccuracyByClass ? row('class accuracy by class', final.classAccuracyByClass.map((a) => (a === null ? '-' : `${(100 * a).toFixed(1)}%`)).join(' ')) : ''}${row('samples (N)', final.n)}${row('predicted-class histogram', final.classHistogram)}</table>` : '<p>No evaluation recorded (no ruler for the data set in rulers/, or --eval-n 0).</p>'}
<h2>Curves</h2>
<div class="charts">${losses}${evals.length > 0 ? fcd + score + classAcc : ''}</div>
<h2>Sample grids</h2>
<div class="grids">${grids.map((g) => `<figure><img src="samples/${escapeMarkup(g)}" alt="${escapeMarkup(g)}" loading="lazy"><figcaption>${escapeMarkup(g.replace('.png', ''))}</figcaption></figure>`).join('\n')}</div>
</body></html>
`;
  const path = join(runDir, 'report.html');
  await writeFileAtomic(path, html);
  log(`report: ${path}`);
  return path;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const usage = 'usage: npm run report -- runs/NAME (writes runs/NAME/report.html: loss and FCD curves, every epoch\'s grid)';
  await runCli(async () => {
    const args = process.argv.slice(2);
    if (args.length !== 1 || args[0]!.startsWith('-')) throw new UsageError(usage);
    await writeReport(args[0]!, (l) => process.stderr.write(`${l}\n`));
  }, usage);
}
