import type { FlagTable } from './flags.js';

/** What a command gets from the process: the only place streams, env and signals come in. */
export interface CliStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface CliContext {
  stdout: CliStream;
  stderr: CliStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on the first SIGINT/SIGTERM: stop, flush, write the summary, return. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  /** The --help text; its options come from `flagTables`. */
  usage: string;
  /** Every flag table the command parses with (subcommands included), for the help test. */
  flagTables: readonly FlagTable[];
  /** Returns the exit code. Throws ThrottlescopeError for user-facing failures. */
  run(argv: string[], ctx: CliContext): Promise<number>;
}
