/** The trainer and exporter CLIs: bad flags give one line on stderr and a non-zero exit, never a stack trace. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../../trainer/run/checkpoint.js';
import type { RunMeta } from '../../trainer/run/run-state.js';
import { DEFAULT_DATA_DIR } from '../../trainer/data/idx.js';
import { writeSyntheticSplit } from '../helpers/idx-files.js';
import { describe, expect, it } from 'vitest';
import { parseTrainArgs, UsageError } from '../../trainer/cli/options.js';
import { tempDir } from '../helpers/tmp.js';
import { encodePng } from '../../shared/png.js';

function run(script: string, args: string[]) {
  const r = spawnSync('npx', ['tsx', script, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr.split('\n').filter((l) => l && !l.includes('npm warn')) };
}

describe('parseTrainArgs', () => {
  it('applies defaults and family options', () => {
    const o = parseTrainArgs(['--steps', '5', '--generator-channels', '32,16', '--latent-distribution', 'uniform'])!;
    expect(o).toMatchObject({ model: 'dcgan', steps: 5, batchSize: 64, seed: 1, out: 'runs/dcgan', backend: 'auto' });
    expect(o.overrides).toEqual({ generatorChannels: [32, 16], latentDistribution: 'uniform' });
    expect(o.threads).toBeUndefined(); // every core
    expect(parseTrainArgs(['--threads', '3'])!.threads).toBe(3);
    expect(parseTrainArgs([])!.convKernels).toBe('auto');
    expect(parseTrainArgs(['--conv-kernels', 'wasm'])!.convKernels).toBe('wasm');
  });

  it.each([
    [['--epochs', '2', '--steps', '3'], /not both/],
    [['--epochs', 'two'], /--epochs must be an integer/],
    [['--model', 'diffusion'], /--model must be one of/],
    [['--backend', 'tpu'], /--backend must be one of/],
    [['--conv-kernels', 'gpu'], /--conv-kernels must be one of auto, native, wasm, got "gpu"/],
    [['--threads', '0'], /--threads must be an integer in \[1, 64\]/],
    [['--threads', 'all'], /--threads must be an integer/],
    [['--seed=-3'], /--seed must be an integer/],
    [['--seed', '4294967296'], /--seed must be an integer/],
    [['--generator-channels', '32,x'], /--generator-channels must be comma-separated positive integers/],
    [['--image-size', '8'], /--image-size must be an integer in \[16, 128\]/],
    [['--channels', '2'], /--channels must be 1 or 3/],
    [['--fit', 'zoom'], /--fit must be one of crop, pad, stretch/],
    [['--background', 'red'], /--background must be white, black or #rrggbb/],
    [['--augment', 'rotate'], /--augment must be one of none, flip/],
    [['--ema', '1'], /--ema must be a number in \(0, 1\)/],
    [['--diff-augment', 'color,blur'], /--diff-augment must be one of color, translation, cutout, got "blur"/],
    [['--learning-rate', 'fast'], /--learning-rate must be a number/],
    [['--frobnicate'], /Unknown option/],
    [['--latent-distribution', 'cauchy'], /must be one of normal, uniform/],
    [['--model', 'vae', '--arch', 'rnn'], /--arch must be one of mlp, conv/],
    [['--latent-size', '0'], /positive integer/],
    [['--beta1', '1.5'], /\[0, 1\)/],
    [['--model', 'vae', '--d-steps', '2'], /does not apply to --model vae/],
  ])('rejects %j', (args, message) => {
    expect(() => parseTrainArgs(args)).toThrow(UsageError);
    expect(() => parseTrainArgs(args)).toThrow(message);
  });
});

describe('CLI processes', () => {
  it('train: a usage error is one line and exit code 2', () => {
    const r = run('trainer/train.ts', ['--epochs', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toEqual(['error: --epochs must be an integer >= 1, got "0"']);
  });

  it('train: a folder with no images, or no folder at all, is one line, exit code 1', () => {
    const dir = tempDir('nodata');
    const r = run('trainer/train.ts', ['--data', dir, '--out', `${dir}/run`, '--steps', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr.at(-1)).toMatch(new RegExp(`^error: --data ${dir}: no images \\(.png, .jpg, .jpeg, .webp, .gif\\) in this folder or below$`));
    const missing = run('trainer/train.ts', ['--data', `${dir}/absent`, '--out', `${dir}/run`, '--steps', '1']);
    expect(missing.status).toBe(1);
    expect(missing.stderr.at(-1)).toBe(`error: --data ${dir}/absent: no such directory`);
  });

  it('every command answers --help with its usage on stdout and exit code 0', () => {
    const commands = { 'trainer/train.ts': 'train', 'trainer/export.ts': 'export', 'trainer/eval.ts': 'eval', 'trainer/classifier.ts': 'classifier', 'trainer/deploy.ts': 'model:push', 'trainer/report.ts': 'report', 'scripts/data-emoji.ts': 'data:emoji' };
    for (const [script, name] of Object.entries(commands)) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--help'], { encoding: 'utf8', timeout: 60_000 });
      expect([script, r.status], r.stderr).toEqual([script, 0]);
      expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${name} -- `));
    }
  });

  /** A folder of eight 33x33 PNGs, in class subfolders (`classes`) or loose. */
  function folder(classes: string[]): string {
    const dir = tempDir('preflight');
    const png = encodePng({ width: 33, height: 33, channels: 3, data: new Uint8Array(33 * 33 * 3).fill(120) });
    for (let i = 0; i < 8; i++) {
      const sub = classes.length ? join(dir, classes[i % classes.length]!) : dir;
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `img-${i}.png`), png);
    }
    return dir;
  }

  // issue 29's table: each is one line and a non-zero exit, said before the backend loads (no "backend:" line).
  it.each([
    ['--model cgan on a folder without subfolders', () => ['--model', 'cgan', '--data', folder([])], 2, (d: string) => `error: --model cgan needs labelled data with at least 2 classes (one subfolder per class, or --labels FILE.csv); ${d} has no class subfolders`],
    ['--model cgan on one class', () => ['--model', 'cgan', '--data', folder(['apps'])], 2, (d: string) => `error: --model cgan needs labelled data with at least 2 classes (one subfolder per class, or --labels FILE.csv); ${d} has one class only ("apps")`],
    ['--data pointing at a file', () => { const f = join(folder([]), 'img-0.png'); return ['--data', f]; }, 1, (f: string) => `error: --data ${f} is a file, not a folder: give the folder that holds the images (or the IDX files)`],
    ['--image-size 33 --model dcgan', () => ['--model', 'dcgan', '--image-size', '33', '--data', folder(['a', 'b'])], 2, () => 'error: --image-size 33 does not fit --model dcgan: DCGAN needs even image sides, got 33x33; try --image-size 32 or 34'],
    ['33x33 images by default, --model dcgan', () => ['--model', 'dcgan', '--data', folder(['a', 'b'])], 2, () => "error: the images' own size, 33 (the default --image-size) does not fit --model dcgan: DCGAN needs even image sides, got 33x33; try --image-size 32 or 34"],
    ['--image-size 30 --model vae --arch conv', () => ['--model', 'vae', '--arch', 'conv', '--image-size', '30', '--data', folder([])], 2, () => 'error: --image-size 30 does not fit --model vae: --arch conv needs image sides divisible by 4, got 30x30; try --image-size 28 or 32'],
    ['a --data that does not exist', () => ['--data', '/nonexistent/pictures'], 1, () => 'error: --data /nonexistent/pictures: no such directory'],
  ])('train: %s', (_, args, status, message) => {
    const argv = args();
    const data = argv[argv.indexOf('--data') + 1]!;
    const r = run('trainer/train.ts', [...argv, '--steps', '1', '--out', join(tempDir('preflight-run'), 'run')]);
    expect(r.stderr).toEqual([message(data)]);
    expect(r.status).toBe(status);
  });

  it('export: a run without a checkpoint is one line, exit code 2', () => {
    const r = run('trainer/export.ts', [tempDir('norun')]);
    expect(r.status).toBe(2);
    expect(r.stderr.at(-1)).toMatch(/^error: .* holds no checkpoint/);
  });

  it('train: SIGINT finishes the step, saves a checkpoint and exits cleanly; --resume continues from it', async () => {
    let data = DEFAULT_DATA_DIR;
    if (!existsSync(data)) {
      data = tempDir('sigdata');
      writeSyntheticSplit(data, 'train', 4096);
    }
    const out = join(tempDir('sig'), 'run');
    // 4096 images: 128 steps per epoch, so a stop that waited for the epoch's end (and its await) would show.
    const args = ['--import', 'tsx', 'trainer/train.ts', '--data', data, '--out', out, '--steps', '100000', '--limit', '4096', '--batch-size', '32', '--eval-n', '0',
      '--generator-channels', '16,8', '--discriminator-channels', '8,16', '--latent-size', '8', '--checkpoint-every', '100000'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('steps/s')) resolve(); // training has started
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toMatch(/interrupted: checkpoint saved at step (\d+); continue with --resume/);
    const saved = (await loadCheckpoint<RunMeta>(out))!;
    expect(saved.meta.step).toBeGreaterThan(0);
    expect(saved.meta.step).toBeLessThan(64); // seen between steps, not at the end of the epoch
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'trainer/train.ts', '--out', out, '--resume', '--eval-n', '0', '--steps', String(saved.meta.step + 2)], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`resumed ${out} at step ${saved.meta.step}/${saved.meta.step + 2}`);
    expect((await loadCheckpoint<RunMeta>(out))!.meta.step).toBe(saved.meta.step + 2);
  });
});
