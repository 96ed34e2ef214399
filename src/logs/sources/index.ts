import type { Readable } from 'node:stream';
import { LocalLogSource } from './local.js';
import { type AwsOptions, S3LogSource } from './s3.js';
import type { LogSource } from './source.js';
import { StdinLogSource } from './stdin.js';

export { LocalLogSource, listLocalFiles } from './local.js';
export {
  type AwsOptions,
  parseS3Url,
  type S3Location,
  type S3LogObject,
  S3LogSource,
  s3ListPrefixes,
} from './s3.js';
export { describeFailure, type LogObject, type LogSource, type LogWindow, type OpenedLog } from './source.js';
export { StdinLogSource } from './stdin.js';

export interface LogSourceOptions {
  aws?: AwsOptions | undefined;
  /** Parallel S3 downloads. */
  concurrency?: number | undefined;
  /** Stream read for the `-` source (default process.stdin). */
  stdin?: Readable | undefined;
}

/** The source a command-line argument names: `-` (stdin), `s3://bucket/prefix`, else a file or directory. */
export function logSourceFor(spec: string, options: LogSourceOptions = {}): LogSource {
  if (spec === '-') return new StdinLogSource(options.stdin);
  if (spec.startsWith('s3://')) {
    return new S3LogSource(spec, { aws: options.aws, concurrency: options.concurrency });
  }
  return new LocalLogSource(spec);
}
