/** The progress bar's rate and eta: the eta follows the rate it is given for it, not the shown one. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatDuration, ProgressBar } from '../../trainer/cli/progress.js';

describe('ProgressBar', () => {
  afterEach(() => vi.restoreAllMocks());

  const lineOf = (draw: (bar: ProgressBar) => void): string => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
    draw(new ProgressBar(1000, 'dcgan runs/x'));
    expect(writes).toHaveLength(1);
    const erase = '\r\u001b[2K'; // a terminal's redraw; a log gets plain lines
    return writes[0]!.startsWith(erase) ? writes[0]!.slice(erase.length) : writes[0]!;
  };

  it('shows the recent rate and an eta from the whole-run rate', () => {
    // 600 steps left: 2.5 steps/s shown; the eta from 1 step/s (evaluations included) is 10 minutes, not 4.
    const line = lineOf((bar) => bar.update(400, { d: 0.5, g: 2 }, 2.5, true, 1));
    expect(line).toContain('400/1000 d=0.5000 g=2.0000 2.50 steps/s eta 10m00s');
  });

  it('uses the shown rate for the eta when no other is given', () => {
    expect(lineOf((bar) => bar.update(400, {}, 2, true))).toContain('2.00 steps/s eta 5m00s');
    expect(lineOf((bar) => bar.update(400, {}, 0, true))).toContain('eta ?');
  });

  it('formats durations', () => {
    expect([formatDuration(59.4), formatDuration(61), formatDuration(3 * 3600 + 125), formatDuration(Infinity)]).toEqual(['59s', '1m01s', '3h02m', '?']);
  });
});
