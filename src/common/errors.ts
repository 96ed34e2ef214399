/**
 * Every failure a user can see is a ThrottlescopeError with a stable `code`.
 * The CLI maps `exitCode` to the process exit status; the library never exits.
 * Codes and exit codes are a public interface: keep docs/errors.md in step.
 */

/** Exit codes shared by every command (docs/errors.md). */
export const ExitCode = {
  ok: 0,
  /** A bug: an error that is not a ThrottlescopeError. */
  internal: 1,
  /** Bad flags, bad config or scenario file: nothing was attempted. */
  usage: 2,
  /** Input could not be read at all (file, directory, gzip, S3 object, probe dir). */
  input: 3,
  /** A remote service refused or failed (AWS API, lab endpoint). */
  remote: 4,
  /** The local environment failed (port in use, unwritable output, disk full). */
  environment: 5,
  /** The command ran and its verdict is negative (e.g. verify says "worse", probe failures with --fail-on-error). */
  verdict: 6,
  /** Stopped by SIGINT/SIGTERM after writing what it had. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ThrottlescopeErrorOptions {
  cause?: unknown;
  exitCode?: ExitCodeValue;
}

export class ThrottlescopeError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;

  constructor(code: string, message: string, options: ThrottlescopeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThrottlescopeError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.internal;
  }
}

/** Flags or values the user gave that cannot be used. */
export class UsageError extends ThrottlescopeError {
  constructor(message: string, options: Omit<ThrottlescopeErrorOptions, 'exitCode'> = {}) {
    super('TS_USAGE', message, { ...options, exitCode: ExitCode.usage });
    this.name = 'UsageError';
  }
}

/** A config/scenario file with one or more problems, all listed. */
export class ConfigError extends ThrottlescopeError {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(
      'TS_CONFIG_INVALID',
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`,
      { exitCode: ExitCode.usage },
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function isThrottlescopeError(error: unknown): error is ThrottlescopeError {
  return error instanceof ThrottlescopeError;
}

/** A readable one-line reason out of anything thrown (for wrapping at I/O boundaries). */
export function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const name = error.name && error.name !== 'Error' ? error.name : undefined;
    const prefix = typeof code === 'string' ? code : name;
    return prefix && !error.message.startsWith(prefix) ? `${prefix}: ${error.message}` : error.message;
  }
  return String(error);
}
