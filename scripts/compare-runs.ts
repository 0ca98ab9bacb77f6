/**
 * `node --import tsx scripts/compare-runs.ts --out FILE.svg NAME=RUN_DIR ...`: the per-epoch FCD of several runs
 * (their evals.jsonl) in one chart, on a log scale (FCD falls from hundreds to single digits over a GAN run).
 * For comparing recipes at equal steps: docs/training.md's recipe comparison is drawn with it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags, UsageError } from '../trainer/cli/options.js';
import { runCli } from '../trainer/cli/main.js';
import { readJsonLines } from '../trainer/report.js';
import { lineChart } from '../trainer/eval/chart.js';
import { writeFileAtomic } from '../trainer/run/atomic.js';
import { EVALS_FILE, type EvalRecord } from '../trainer/eval/epoch-eval.js';

const USAGE = 'usage: node --import tsx scripts/compare-runs.ts --out FILE.svg [--title TEXT] NAME=RUN_DIR [NAME=RUN_DIR ...]';

await runCli(async () => {
  const { values, positionals } = parseFlags({ args: process.argv.slice(2), allowPositionals: true, options: { out: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(USAGE);
  if (!values.out || positionals.length === 0) throw new UsageError(USAGE);
  const series = [];
  let floor = Number.NaN;
  for (const arg of positionals) {
    const at = arg.indexOf('=');
    if (at < 1) throw new UsageError(`expected NAME=RUN_DIR, got "${arg}"`);
    const dir = arg.slice(at + 1);
    if (!existsSync(join(dir, EVALS_FILE))) throw new UsageError(`${dir} has no ${EVALS_FILE} (train with --eval-n > 0)`);
    const evals = (await readJsonLines<EvalRecord>(join(dir, EVALS_FILE))).filter((e) => Number.isInteger(e.epoch));
    floor = evals[0]?.fcdRealReference ?? floor;
    series.push({ name: arg.slice(0, at), points: evals.map((e) => [e.epoch, Math.log10(e.fcd)] as [number, number]) });
  }
  const references = Number.isFinite(floor) ? [{ name: `real vs real ${floor.toFixed(2)}`, y: Math.log10(floor) }] : [];
  await writeFileAtomic(values.out, lineChart(series, { title: values.title ?? 'FCD per epoch', xLabel: 'epoch', yLabel: 'log10 FCD', references }));
  console.log(`wrote ${values.out}`);
});
