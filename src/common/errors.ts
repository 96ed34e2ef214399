/**
 * Every failure a user can see is a ThrottlescopeError with a stable `code`.
 * The CLI maps `exitCode` (derived from the code's registry entry) to the process exit status;
 * the library never exits. Codes and exit codes are a public interface: docs/errors.md.
 */

import { type ErrorCode, type ExitCodeValue, exitCodeFor } from './error-codes.js';

export { type ErrorCode, ExitCode, type ExitCodeValue } from './error-codes.js';

export interface ThrottlescopeErrorOptions {
  cause?: unknown;
}

export class ThrottlescopeError extends Error {
  readonly code: ErrorCode;
  /** Derived from the code (src/common/error-codes.ts), never chosen at the call site. */
  readonly exitCode: ExitCodeValue;

  constructor(code: ErrorCode, message: string, options: ThrottlescopeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThrottlescopeError';
    this.code = code;
    this.exitCode = exitCodeFor(code);
  }
}

/** Flags or values the user gave that cannot be used. */
export class UsageError extends ThrottlescopeError {
  constructor(message: string, options: ThrottlescopeErrorOptions = {}) {
    super('TS_USAGE', message, options);
    this.name = 'UsageError';
  }
}

/**
 * A library option whose value cannot be used. The message names the option as the library
 * knows it (`reserve expects ...`), never a CLI flag; the CLI says it as the flag the user typed.
 */
export class InvalidOptionError extends UsageError {
  constructor(
    readonly option: string,
    /** "expects one of the functions (a, b), got \"c\"": the message after the option's name. */
    readonly expectation: string,
  ) {
    super(`${option} ${expectation}`);
    this.name = 'InvalidOptionError';
  }
}

/** A config/scenario file with one or more problems, all listed. */
export class ConfigError extends ThrottlescopeError {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(
      'TS_CONFIG_INVALID',
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`,
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
