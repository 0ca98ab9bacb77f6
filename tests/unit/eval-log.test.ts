/**
 * evals.jsonl gets an epoch's record only once that epoch's checkpoint is saved (issue 26, fix 6): a run killed in
 * between resumes from the previous checkpoint, measures the epoch again, and writes its FCD once, not twice (the
 * plateau rule would read a repeated FCD as no improvement).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvalLog, EVALS_FILE, type EvalRecord } from '../../trainer/eval/epoch-eval.js';
import { tempDir } from '../helpers/tmp.js';

const record = (epoch: number, fcd: number) => ({ step: epoch * 10, epoch, n: 100, fcd, fcdRealReference: 1, classifierScore: 5 }) as EvalRecord;

describe('EvalLog', () => {
  it('writes a measured epoch after its checkpoint only; a kill in between leaves no line for the repeated epoch', async () => {
    const dir = tempDir('evals-');
    const file = join(dir, EVALS_FILE);
    const first = new EvalLog(dir);
    first.add(record(1, 9));
    await first.afterCheckpoint();
    first.add(record(2, 8)); // measured; the run is killed before epoch 2's checkpoint
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    const resumed = new EvalLog(dir); // resumes from epoch 1's checkpoint and trains epoch 2 again
    resumed.add(record(2, 7.5));
    await resumed.afterCheckpoint();
    await resumed.afterCheckpoint(); // nothing new: nothing written
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as EvalRecord).epoch)).toEqual([1, 2]);
    expect(existsSync(file)).toBe(true);
  });
});
