/**
 * The trainer benchmark in a process of its own, for run.ts: `node --import tsx tests/bench/trainer-process.ts
 * [--quick] [--cases A,B]` logs to stderr and prints its results as one JSON line on stdout.
 *
 * Why a process of its own: the trainer's speed depends on its process's JS heap. onnxruntime-node copies every
 * native kernel's output into a new ArrayBuffer (236 MiB a 64x64 step), so V8 runs a mark-compact about every half
 * step, and each walks the whole heap. With the edge bench's modules loaded (wrangler, miniflare: 37 -> 87 MB of
 * heap), the 64x64 DCGAN measured 0.65-0.70x PyTorch, against 0.82-0.88x without them (3 runs each); `npm run train`
 * never loads them. And the edge's figures are then not measured beside the trainer's grown wasm memory either.
 */
import { parseArgs } from 'node:util';
import { benchTrainer } from './trainer-bench.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, cases: { type: 'string', default: '' } } });
const results = await benchTrainer(values.quick!, (line) => process.stderr.write(`${line}\n`), values.cases!.split(',').filter(Boolean));
process.stdout.write(`${JSON.stringify(results)}\n`);
