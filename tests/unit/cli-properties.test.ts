/** Property-based tests (fast-check) of every CLI's flag parsing: any argv gives options or a one-line UsageError. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTrainArgs, UsageError } from '../../trainer/cli/options.js';
import { parseEvalArgs } from '../../trainer/eval.js';
import { parseClassifierArgs } from '../../trainer/classifier.js';

const flags = ['--model', '--epochs', '--steps', '--batch-size', '--seed', '--backend', '--threads', '--limit', '--checkpoint-every', '--eval-n', '--until-plateau', '--resume', '--help',
  '--latent-size', '--generator-channels', '--learning-rate', '--latent-distribution', '--arch', '--d-steps', '--n', '--iwae-k', '--iwae-n', '--validation', '--dry-run', '--nope', '-x'];
const values = fc.oneof(
  fc.constantFrom('dcgan', 'vae', 'cgan', 'gan', 'wasm', 'cpu', 'auto', 'uniform', 'normal', 'mlp', 'conv', '0', '1', '-1', '0.5', '1e-4', '64,32', '1,2,3', 'NaN', '', ' '),
  fc.integer({ min: -10, max: 100_000 }).map(String),
  fc.string({ maxLength: 8 }),
);
const argv = fc.array(fc.oneof(fc.constantFrom(...flags), values, fc.tuple(fc.constantFrom(...flags), values).map(([f, v]) => `${f}=${v}`)), { maxLength: 8 });

function onlyUsageErrors(parse: (args: string[]) => unknown) {
  fc.assert(
    fc.property(argv, (args) => {
      try {
        parse(args);
      } catch (err) {
        expect(err, `argv ${JSON.stringify(args)}`).toBeInstanceOf(UsageError);
        const message = (err as Error).message;
        expect(message.includes('\n'), `multi-line message for ${JSON.stringify(args)}: ${message}`).toBe(false);
        expect(message.length).toBeGreaterThan(5);
      }
    }),
    { numRuns: 1500, seed: 11 },
  );
}

describe('property: CLI flags', () => {
  it('npm run train', () => onlyUsageErrors(parseTrainArgs));
  it('npm run eval', () => onlyUsageErrors(parseEvalArgs));
  it('npm run classifier', () => onlyUsageErrors(parseClassifierArgs));

  it('accepted train options are in range', () => {
    fc.assert(
      fc.property(argv, (args) => {
        let opts: ReturnType<typeof parseTrainArgs>;
        try {
          opts = parseTrainArgs(args);
        } catch {
          return;
        }
        if (!opts) return;
        expect(opts.batchSize).toBeGreaterThanOrEqual(1);
        expect(opts.checkpointEvery).toBeGreaterThanOrEqual(1);
        expect(opts.evalN === 0 || opts.evalN >= 2).toBe(true);
        if (opts.untilPlateau !== undefined) expect(opts.untilPlateau > 0 && opts.untilPlateau < 1).toBe(true);
        for (const v of Object.values(opts.overrides)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
      }),
      { numRuns: 1500, seed: 12 },
    );
  });
});
