/**
 * A one-line progress bar on stderr. On a terminal it redraws in place; otherwise (CI logs,
 * pipes) it prints a line at every 10 % so logs stay short.
 */
export class ProgressBar {
  private lastDecile = -1;
  private readonly interactive: boolean;
  private readonly startedAt = Date.now();

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.interactive = stream.isTTY === true;
  }

  update(done: number, detail = ''): void {
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const remaining = share > 0 ? (elapsed / share) * (1 - share) : Number.NaN;
    const eta = Number.isFinite(remaining) ? ` eta ${formatSeconds(remaining)}` : '';
    if (this.interactive) {
      const width = 24;
      const filled = Math.round(share * width);
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${detail}${eta}\x1b[K`);
      return;
    }
    const decile = Math.floor(share * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`${this.label} ${done}/${this.total} ${detail}${eta}\n`);
    }
  }

  finish(): void {
    if (this.interactive) this.stream.write('\n');
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds - minutes * 60)).padStart(2, '0')}s`;
}
