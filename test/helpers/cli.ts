import { Readable } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';

/** A CliContext that collects what a command writes, for calling `main([...], ctx)` in-process. */
export function fakeCli(opts: { stdin?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    stdout: { write: (s: string) => out.push(s) > 0 },
    stderr: { write: (s: string) => err.push(s) > 0 },
    stdin: Readable.from([Buffer.from(opts.stdin ?? '')]),
    env: opts.env ?? {},
    cwd: process.cwd(),
    signal: opts.signal ?? new AbortController().signal,
  };
  return { out, err, ctx };
}
