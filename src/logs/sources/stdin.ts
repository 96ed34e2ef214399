/** Standard input (`-`): one object, streamed; plain or gzip (the reader tells them apart). */
import type { Readable } from 'node:stream';
import { describeFailure, type LogObject, type LogSource, type OpenedLog } from './source.js';

export class StdinLogSource implements LogSource {
  readonly describe = '-';
  readonly concurrency = 1;

  /** `input`: the stream to read; process.stdin when undefined (taken only when opened). */
  constructor(private readonly input?: Readable | undefined) {}

  async *list(): AsyncGenerator<LogObject> {
    // No name, so no time to judge the window by: every entry is filtered line by line.
    yield { name: 'stdin' };
  }

  async open(): Promise<OpenedLog> {
    return { bytes: null, stream: () => this.input ?? (process.stdin as Readable), close: async () => {} };
  }

  failureMessage(error: unknown, object?: LogObject): string {
    return describeFailure(object?.name ?? this.describe, error);
  }

  close(): void {}
}
