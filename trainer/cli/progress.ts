/** A one-line progress bar on stderr (redrawn in a terminal, a plain line every few seconds in a log). */

export class ProgressBar {
  private lastPrint = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly logIntervalMs = 15_000,
    /** What `done` counts, for the rate: training steps, or images while a folder is decoded. */
    private readonly unit: 'steps' | 'images' = 'steps',
  ) {}

  /**
   * `perSecond` is the rate shown; `etaPerSecond`, when given, is the rate the eta assumes. The trainer passes its
   * recent steps/s for the first and its whole run's average for the second, which includes the pauses for
   * samples, evaluations and checkpoints (a 5 s window that spans an evaluation once printed 0.28 steps/s and
   * an eta of 2h54m for a run that had 25 minutes left).
   */
  update(done: number, fields: Record<string, number>, perSecond: number, force = false, etaPerSecond = perSecond): void {
    const now = Date.now();
    if (!this.tty && !force && now - this.lastPrint < this.logIntervalMs) return;
    this.lastPrint = now;
    const frac = Math.min(1, done / this.total);
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const losses = Object.entries(fields).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ');
    const eta = etaPerSecond > 0 ? formatDuration((this.total - done) / etaPerSecond) : '?';
    const rate = this.unit === 'images' ? `${perSecond.toFixed(0)} images/s` : `${perSecond.toFixed(2)} steps/s`;
    const line = `${this.label} [${bar}] ${done}/${this.total}${losses ? ` ${losses}` : ''} ${rate} eta ${eta}`;
    process.stderr.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  finish(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
