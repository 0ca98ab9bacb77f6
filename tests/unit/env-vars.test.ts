/** The worker's numeric vars: positive numbers are taken, anything else is reported and replaced by the default. */
import { describe, expect, it } from 'vitest';
import { positiveNumberVar } from '../../edge/config.js';

describe('positiveNumberVar', () => {
  it('takes positive numbers and defaults when unset', () => {
    const warnings: string[] = [];
    expect(positiveNumberVar('X', '30', 5, (m) => warnings.push(m))).toBe(30);
    expect(positiveNumberVar('X', '0.5', 5, (m) => warnings.push(m))).toBe(0.5);
    expect(positiveNumberVar('X', undefined, 5, (m) => warnings.push(m))).toBe(5);
    expect(positiveNumberVar('X', ' ', 5, (m) => warnings.push(m))).toBe(5);
    expect(warnings).toEqual([]);
  });

  it('reports and replaces what is not a positive number', () => {
    for (const bad of ['abc', '-3', '0', 'Infinity', '1e999', '30s']) {
      const warnings: string[] = [];
      expect(positiveNumberVar('MODEL_SYNC_SECONDS', bad, 30, (m) => warnings.push(m)), bad).toBe(30);
      expect(warnings, bad).toEqual([`MODEL_SYNC_SECONDS=${JSON.stringify(bad)} is not a positive number; using 30`]);
    }
  });
});
