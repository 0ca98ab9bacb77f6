/**
 * The layout's import rules (docs/architecture.md, "Who imports whom"), read from the code itself: every relative
 * import of edge/, trainer/, shared/, client/ and scripts/ is parsed with TypeScript's own parser (static, dynamic,
 * re-exports and `import('...')` types), each file is given its room (edge/routes, trainer/cli, ...), and:
 * - the fixed rules below hold: nothing imports upward;
 * - every room-to-room import is one the diagram's table draws, and every drawn one exists, so the picture in
 *   docs/architecture.md cannot drift from the code in either direction.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** The room of a file: edge/ and trainer/ by subfolder (their root files are the entry points), others by top folder. */
function roomOf(file: string): string {
  const parts = file.split('/');
  if ((parts[0] === 'edge' || parts[0] === 'trainer') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0]!;
}

/** The relative imports of one source file, resolved to repository paths. */
function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return;
    const to = normalize(join(dirname(file), spec));
    // A relative path into node_modules (a package file it does not export) is a package, not a room.
    if (!to.startsWith('node_modules/')) out.push({ from: file, to, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      // `import type {..}`, or `import {type A, type B}` with nothing else: erased from the output.
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = Boolean(clause?.isTypeOnly || (clause && !clause.name && named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return out;
}

/** What the fixed rules forbid, one line per offending import (empty when the layout holds). */
function violations(imports: Import[]): string[] {
  const bad: string[] = [];
  for (const i of imports) {
    const [a, b] = [roomOf(i.from), roomOf(i.to)];
    const top = (r: string) => r.split('/')[0]!;
    const say = (why: string) => bad.push(`${i.from} imports ${i.to}: ${why}`);
    if (a === 'shared' && b !== 'shared') say('shared/ is the contract: it imports nothing of edge/, trainer/ or anything else');
    if (top(a) === 'edge' && !['edge', 'shared', 'models'].includes(top(b))) say('edge/ imports only edge/, shared/ and the bundled models');
    if (top(a) === 'trainer' && !['trainer', 'shared'].includes(top(b))) say('trainer/ imports only trainer/ and shared/');
    if ((a === 'edge/registry' || a === 'edge/inference') && (b === 'edge/routes' || b === 'edge/http')) say('the registry and inference serve the routes and the HTTP layer, never the reverse');
    if (a === 'edge/http' && b === 'edge/routes') say('the HTTP plumbing is below the routes');
    if (a.startsWith('edge/') && b === 'edge') say("edge's root (app, worker, config) is the top: nothing below imports it");
    if (a.startsWith('trainer/') && b === 'trainer') say("trainer's root files are entry points: nothing below imports them");
    if (a === 'client' && !['client', 'shared'].includes(top(b)) && !(top(b) === 'edge' && i.typeOnly)) say('the client takes only types from edge/ (nothing of the server is bundled)');
  }
  return bad;
}

/** Every .ts file under the given folders (the working tree as it is, new files included). */
function sources(dirs: string[]): string[] {
  return dirs.flatMap((d) =>
    (readdirSync(d, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => `${d}/${f.split('\\').join('/')}`),
  );
}

/** The table in docs/architecture.md: lines `room -> room, room (note)` inside the "Who imports whom" block. */
function drawnEdges(markdown: string): Set<string> {
  const block = markdown.split('### Who imports whom')[1]?.split('```')[1];
  if (!block) throw new Error('docs/architecture.md has no "### Who imports whom" block');
  const edges = new Set<string>();
  for (const line of block.split('\n')) {
    const m = /^\s*(\S+)\s+->\s+(.+)$/.exec(line);
    if (!m) continue;
    for (const to of m[2]!.replace(/\(.*?\)/g, '').split(',')) if (to.trim()) edges.add(`${m[1]} -> ${to.trim()}`);
  }
  return edges;
}

const all = sources(['edge', 'trainer', 'shared', 'client', 'scripts']).flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));

describe('layout', () => {
  it('parses imports of every kind and catches an upward one', () => {
    const text = "import { a } from '../routes/images.js';\nimport type { B } from '../http/x.js';\nexport * from './y.js';\nconst c = await import('../../trainer/cli/main.js');\ntype D = import('../../edge/app.js').E;\nimport 'node:fs';";
    const found = importsOf('edge/registry/registry.ts', text);
    expect(found.map((i) => `${i.to}${i.typeOnly ? ' (type)' : ''}`)).toEqual(['edge/routes/images.js', 'edge/http/x.js (type)', 'edge/registry/y.js', 'trainer/cli/main.js', 'edge/app.js (type)']);
    // A type-only import is still an import of the room: the layout is about what depends on what.
    expect(violations(found)).toHaveLength(4);
    expect(violations(importsOf('shared/png.ts', "import { x } from '../edge/api/limits.js';"))[0]).toMatch(/shared\/ is the contract/);
    expect(violations(importsOf('trainer/export/ort-node.ts', "import type { R } from '../../edge/inference/ort-web-runtime.js';"))[0]).toMatch(/trainer\/ imports only/);
    expect(violations(importsOf('client/edge-client.ts', "import type { A } from '../edge/app.js';"))).toEqual([]);
    expect(violations(importsOf('client/edge-client.ts', "import { A } from '../edge/app.js';"))).toHaveLength(1);
  });

  it('no module imports upward: edge/ and trainer/ depend on shared/ only, routes on registry and inference', () => {
    expect(all.length).toBeGreaterThan(300);
    expect(violations(all)).toEqual([]);
  });

  it('every onnxruntime session takes its providers from the one map, and every entry of the map is used', async () => {
    const { EXECUTION_PROVIDERS } = await import('../../shared/execution-providers.js');
    const files = sources(['edge', 'trainer', 'shared']).filter((f) => f !== 'shared/execution-providers.ts');
    const texts = files.map((f) => [f, readFileSync(f, 'utf8')] as const);
    expect(texts.filter(([, t]) => /executionProviders:\s*\[\s*['"]/.test(t)).map(([f]) => f), 'providers written out instead of taken from the map').toEqual([]);
    expect(texts.filter(([, t]) => /executionProviders:/.test(t)).map(([f]) => f).sort()).toEqual(['edge/inference/ort-web-runtime.ts', 'edge/pages/playground.ts', 'trainer/export/ort-node.ts']);
    const unused = Object.keys(EXECUTION_PROVIDERS).filter((device) => !texts.some(([, t]) => t.includes(`'${device}'`) || t.includes(`EXECUTION_PROVIDERS.${device}`)));
    expect(unused, 'entries nothing uses').toEqual([]);
  });

  it("docs/architecture.md's table draws exactly the imports between rooms", () => {
    const actual = new Set(all.map((i) => `${roomOf(i.from)} -> ${roomOf(i.to)}`).filter((e) => e.split(' -> ')[0] !== e.split(' -> ')[1]));
    const drawn = drawnEdges(readFileSync('docs/architecture.md', 'utf8'));
    // `X -> trainer/*` draws X's imports of any room of trainer/ (scripts are consumers, like the tests).
    const covers = (d: string, e: string) => d === e || (d.endsWith('/*') && (e === d.slice(0, -2) || e.startsWith(d.slice(0, -1))));
    expect([...actual].filter((e) => ![...drawn].some((d) => covers(d, e))).sort(), 'imports the table does not draw').toEqual([]);
    expect([...drawn].filter((d) => ![...actual].some((e) => covers(d, e))).sort(), 'drawn but not imported').toEqual([]);
  });
});
