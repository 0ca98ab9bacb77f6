/**
 * What validating a query with its zod schema (edge/api/schemas.ts) costs, per request: run alone,
 * `node --import tsx tests/bench/schema-parse.ts`. Measured: 0.50-0.70 µs for sample.png's query, 1.8-2.2 µs for grid.png's
 * with a string seed (a training run beside it), against a sample.png p50 of ~3 ms.
 */
import { GridQuery, SampleQuery } from '../../edge/api/schemas.js';

const cases = [
  ['sample.png?seed=12345', SampleQuery, { seed: '12345' }],
  ['grid.png?seed=alice@example.com&n=64&cols=8&scale=2', GridQuery, { seed: 'alice@example.com', n: '64', cols: '8', scale: '2' }],
] as const;
for (const [name, schema, query] of cases) {
  for (let i = 0; i < 20_000; i++) schema.safeParse(query);
  const n = 200_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) schema.safeParse(query);
  console.log(`${name}: ${(((performance.now() - t) / n) * 1000).toFixed(2)} µs per parse`);
}
