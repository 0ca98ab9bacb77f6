/**
 * The docs name only flags that exist: every `--flag` of an `npm run train|export|eval|classifier|model:push`
 * command written in README.md or docs/ is in that command's own usage text (printed by the CLI itself, as a user
 * sees it), and every other `--flag` the docs mention belongs to one of those commands or to a tool named below.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const COMMANDS = { train: 'trainer/train.ts', export: 'trainer/export.ts', eval: 'trainer/eval.ts', classifier: 'trainer/classifier.ts', 'model:push': 'trainer/deploy.ts' } as const;
type Command = keyof typeof COMMANDS;

/** The commands that print their usage for --help. */
const HELP = new Set<Command>(['train', 'classifier']);

/** What the CLI prints for --help (train, classifier) or for a call without its argument (the others): its usage. */
function usageOf(command: Command): string {
  try {
    return execFileSync(process.execPath, ['--import', 'tsx', COMMANDS[command], ...(HELP.has(command) ? ['--help'] : [])], { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
}

/** Flags the docs name for other tools, each with its tool. */
const OTHER_TOOLS: Record<string, string> = {
  import: 'node --import tsx',
  workspaces: 'npm ci --workspaces=false',
  help: 'npm run train -- --help',
  'data-binary': 'curl',
  'enable-unsafe-webgpu': 'chromium',
  'use-webgpu-adapter': 'chromium',
  conditional: 'scripts/pytorch-dcgan-reference.py',
  'export-epochs': 'scripts/pytorch-dcgan-reference.py',
  batch: 'scripts/pytorch-dcgan-reference.py',
  flip: 'scripts/pytorch-dcgan-reference.py',
  'fresh-z': 'scripts/pytorch-dcgan-reference.py',
  'standing-stats': 'scripts/pytorch-dcgan-reference.py',
  'lr-parts': 'scripts/pytorch-dcgan-reference.py',
};

const flagsIn = (text: string) => [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);
const has = (usage: string, flag: string) => new RegExp(`(?<![\\w-])--${flag}(?![\\w-])`).test(usage);

/** The markdown files, and each `npm run X -- ...` command in them (a code line with its `\` continuations, or an inline code span). */
function documentedCommands(): { file: string; command: Command; text: string }[] {
  const files = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const found: { file: string; command: Command; text: string }[] = [];
  for (const file of files) {
    const md = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
    for (const m of md.matchAll(/npm run (train|export|eval|classifier|model:push) --([^`\n]*)/g)) {
      // A code line's comment is prose: stop at `#` after whitespace.
      found.push({ file, command: m[1] as Command, text: m[2]!.split(/\s#\s/)[0]! });
    }
  }
  return found;
}

const usages = Object.fromEntries(Object.keys(COMMANDS).map((c) => [c, usageOf(c as Command)])) as Record<Command, string>;

describe('docs', () => {
  it('each CLI prints a usage text', () => {
    for (const [command, usage] of Object.entries(usages)) expect(usage, command).toContain(`npm run ${command} --`);
  });

  it('every flag of a documented command is in that command\'s usage text', () => {
    const commands = documentedCommands();
    expect(commands.length).toBeGreaterThan(15);
    expect(new Set(commands.map((c) => c.command))).toEqual(new Set(Object.keys(COMMANDS)));
    const missing = commands.flatMap(({ file, command, text }) => flagsIn(text).filter((f) => !has(usages[command], f) && !(f === 'help' && HELP.has(command))).map((f) => `${file}: npm run ${command} --${f}`));
    expect(missing).toEqual([]);
  });

  it('every other flag the docs name belongs to a trainer command or a named tool', () => {
    // docs/benchmarks.md is left out here: it names each benchmark script's own flags beside its numbers.
    const files = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md') && f !== 'benchmarks.md').map((f) => `docs/${f}`)];
    const all = Object.values(usages).join('\n');
    const unknown = files.flatMap((file) => flagsIn(readFileSync(file, 'utf8')).filter((f) => !has(all, f) && !(f in OTHER_TOOLS)).map((f) => `${file}: --${f}`));
    expect(unknown).toEqual([]);
  });

  it('the check itself catches a flag that no usage text has', () => {
    expect(has(usages.train, 'until-plateau')).toBe(true);
    expect(has(usages.train, 'until')).toBe(false);
    expect(has(usages.export, 'epochs')).toBe(false);
  });
});
