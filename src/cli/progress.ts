/**
 * The one live-progress renderer of the CLI. On a terminal it redraws a block of lines in place
 * (cursor up, clear line); without one it prints the latest state as plain lines, at most every
 * `plainEveryMs`. Library code only reports numbers through `onProgress` callbacks; the wording
 * of those numbers is here.
 */
import { safeForTerminal } from '../common/terminal.js';
import type { DiagnoseProgress } from '../diagnose/run.js';
import type { ReadProgress } from '../logs/sources.js';
import type { MetricsProgress } from '../metrics/collect.js';
import type { CliContext, CliStream } from './context.js';

export interface LiveProgressOptions {
  /** Without a terminal: print the latest state at most this often (0: every update). Default 5 s. */
  plainEveryMs?: number;
  /** On a terminal: redraw at most this often (a final `update(..., true)` always draws). Default 100 ms. */
  redrawEveryMs?: number;
  /** Whether the stream is a terminal (default: the stream's isTTY). */
  tty?: boolean;
}

export class LiveProgress {
  private drawn = 0;
  private lastDraw = 0;
  private lastPlain: number;
  private readonly tty: boolean;
  private readonly plainEveryMs: number;
  private readonly redrawEveryMs: number;
  private pending: readonly string[] | undefined;

  constructor(
    private readonly stream: CliStream,
    options: LiveProgressOptions = {},
  ) {
    this.tty = options.tty ?? stream.isTTY === true;
    this.plainEveryMs = options.plainEveryMs ?? 5_000;
    this.redrawEveryMs = options.redrawEveryMs ?? 100;
    this.lastPlain = Date.now();
  }

  /** The current state, one line per entry. */
  update(lines: string | readonly string[], force = false): void {
    const block = typeof lines === 'string' ? [lines] : lines;
    const now = Date.now();
    if (this.tty) {
      this.pending = block;
      if (!force && now - this.lastDraw < this.redrawEveryMs) return;
      this.lastDraw = now;
      this.draw(block);
      return;
    }
    if (!force && now - this.lastPlain < this.plainEveryMs) return;
    this.lastPlain = now;
    this.stream.write(block.map((l) => `${safeForTerminal(l)}\n`).join(''));
  }

  /** A line that stays (a step, a warning): written above the live block, which is redrawn. */
  log(line: string): void {
    this.clear();
    this.stream.write(`${safeForTerminal(line)}\n`);
    if (this.tty && this.pending) this.draw(this.pending);
  }

  /** Ends the live view: the block is cleared, or left on screen with `keep`. */
  done(options: { keep?: boolean } = {}): void {
    if (!options.keep) this.clear();
    this.drawn = 0;
    this.pending = undefined;
  }

  private draw(block: readonly string[]): void {
    const width = this.stream.columns ? Math.max(20, this.stream.columns - 1) : undefined;
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of block) {
      const line = safeForTerminal(l);
      out += `\r\x1b[2K${width !== undefined ? line.slice(0, width) : line}\n`;
    }
    this.drawn = block.length;
    this.stream.write(out);
  }

  private clear(): void {
    if (!this.tty || this.drawn === 0) return;
    let out = `\x1b[${this.drawn}A`;
    for (let i = 0; i < this.drawn; i++) out += '\r\x1b[2K\n';
    this.stream.write(`${out}\x1b[${this.drawn}A`);
    this.drawn = 0;
  }
}

/** A renderer that draws nothing (--quiet, or --json where progress would be noise). */
class SilentProgress extends LiveProgress {
  override update(): void {}
  override log(): void {}
  override done(): void {}
}

/** Progress of a long read on stderr; silent with --json (scripts read stdout, and nothing else). */
export function progressFor(
  ctx: CliContext,
  options: { json?: boolean; quiet?: boolean } = {},
): LiveProgress {
  if (options.json || options.quiet) return new SilentProgress(ctx.stderr);
  return new LiveProgress(ctx.stderr);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** "reading 3/10 files, 12.5 MB". */
export function readProgress(p: ReadProgress): string {
  return `  reading ${p.filesDone}/${p.filesTotal} files, ${mb(p.bytes)}`;
}

/** "CloudWatch: 2/5 queries". */
export function metricsProgress(p: MetricsProgress): string {
  return `  CloudWatch: ${p.queriesDone}/${p.queriesTotal} GetMetricData calls`;
}

/** diagnose/fix: the logs read, then the CloudWatch calls. */
export function diagnoseProgress(p: DiagnoseProgress): string {
  return p.part === 'logs' ? readProgress(p) : metricsProgress(p);
}
