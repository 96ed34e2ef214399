/**
 * S3 (`s3://bucket[/prefix]`): ListObjectsV2 through the SDK v3 paginator, one prefix per day when
 * the prefix is an ALB region folder and a window is given, objects named outside the window
 * listed as such, and GetObject bodies streamed, several at a time.
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { type AwsConnection, awsClientConfig, toRemoteError } from '../../common/aws.js';
import { ThrottlescopeError } from '../../common/errors.js';
import { formatOf, type LogWindow } from '../formats.js';
import { albLogDayPrefix } from '../s3-key.js';
import { describeFailure, type LogObject, type LogSource, type OpenedLog } from './source.js';

/** Region, profile and endpoint for s3:// sources (the same rules as every AWS client). */
export type AwsOptions = AwsConnection;

/** GetObject calls in flight unless the caller says otherwise. */
const DEFAULT_DOWNLOADS = 8;

export interface S3Location {
  bucket: string;
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m?.[1]) {
    throw new ThrottlescopeError('TS_USAGE', `expected s3://bucket[/prefix], got "${url}"`);
  }
  return { bucket: m[1], prefix: m[2] ?? '' };
}

const REGION_ROOT = /(^|\/)AWSLogs\/\d{12}\/elasticloadbalancing\/[a-z0-9-]+\/?$/;
const MAX_DAYS_LISTED_ONE_BY_ONE = 62;

/**
 * The prefixes to list: at the region folder with a window, one per day (S3 lists a day's keys
 * without walking the whole history); otherwise the given prefix.
 */
export function s3ListPrefixes(prefix: string, sinceMs?: number, untilMs?: number): string[] {
  if (sinceMs === undefined || !REGION_ROOT.test(prefix)) return [prefix];
  const end = untilMs ?? Date.now();
  // A file's folder is its delivery day; a window's last minutes may be delivered the next day.
  const firstDay = Math.floor(sinceMs / 86_400_000);
  const lastDay = Math.floor((end + 10 * 60_000) / 86_400_000);
  if (lastDay - firstDay + 1 > MAX_DAYS_LISTED_ONE_BY_ONE) return [prefix];
  const m = /^(.*?)(?:\/)?AWSLogs\/(\d{12})\/elasticloadbalancing\/([a-z0-9-]+)\/?$/.exec(prefix);
  if (!m) return [prefix];
  const prefixes: string[] = [];
  for (let day = firstDay; day <= lastDay; day++) {
    prefixes.push(albLogDayPrefix(m[1] ?? '', m[2] as string, m[3] as string, day * 86_400_000));
  }
  return prefixes;
}

export interface S3LogObject extends LogObject {
  key: string;
}

export interface S3SourceOptions {
  aws?: AwsOptions | undefined;
  /** GetObject calls in flight (default 8). */
  concurrency?: number | undefined;
  /** Keys per ListObjectsV2 page (MaxKeys; default the service's, 1000). */
  listPageSize?: number | undefined;
}

export class S3LogSource implements LogSource<S3LogObject> {
  readonly concurrency: number;
  readonly progressName: string;
  private readonly aws: AwsOptions;
  private readonly listPageSize: number | undefined;
  private client: Promise<S3Client> | undefined;
  private location: S3Location | undefined;

  constructor(
    readonly describe: string,
    options: S3SourceOptions = {},
  ) {
    this.concurrency = options.concurrency ?? DEFAULT_DOWNLOADS;
    this.progressName = describe;
    this.aws = options.aws ?? {};
    this.listPageSize = options.listPageSize;
  }

  async *list(window: LogWindow, signal?: AbortSignal): AsyncGenerator<S3LogObject> {
    const { bucket, prefix } = this.where();
    const client = await this.connect();
    const { paginateListObjectsV2 } = await import('@aws-sdk/client-s3');
    for (const listPrefix of s3ListPrefixes(prefix, window.sinceMs, window.untilMs)) {
      const pages = paginateListObjectsV2(
        { client, pageSize: this.listPageSize },
        { Bucket: bucket, Prefix: listPrefix },
        { abortSignal: signal },
      )[Symbol.asyncIterator]();
      for (;;) {
        let page: Awaited<ReturnType<typeof pages.next>>;
        try {
          page = await pages.next();
        } catch (error) {
          throw toRemoteError(error, `S3 ListObjectsV2 s3://${bucket}/${listPrefix}`);
        }
        if (page.done) break;
        for (const o of page.value.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          const object: S3LogObject = {
            name: `s3://${bucket}/${o.Key}`,
            key: o.Key,
            size: o.Size ?? 0,
            lastModified: o.LastModified,
          };
          if (formatOf(object).nameMayOverlap(o.Key, window) === false) object.outsideWindow = true;
          yield object;
        }
      }
    }
  }

  async open(object: S3LogObject, signal?: AbortSignal): Promise<OpenedLog> {
    const { bucket } = this.where();
    const client = await this.connect();
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    let body: Readable;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }), {
        abortSignal: signal,
      });
      body = out.Body as Readable;
    } catch (error) {
      throw toRemoteError(error, `S3 GetObject ${object.name}`);
    }
    return {
      bytes: null,
      stream: () => body,
      close: async () => {
        body.destroy();
      },
    };
  }

  failureMessage(error: unknown, object?: S3LogObject): string {
    if (object === undefined || error instanceof ThrottlescopeError)
      return describeFailure(object?.name ?? this.describe, error);
    return toRemoteError(error, `S3 GetObject ${object.name}`).message;
  }

  close(): void {
    // A client still being made is destroyed once made.
    void this.client?.then((c) => c.destroy()).catch(() => {});
  }

  private where(): S3Location {
    this.location ??= parseS3Url(this.describe);
    return this.location;
  }

  private connect(): Promise<S3Client> {
    this.client ??= (async () => {
      const { S3Client } = await import('@aws-sdk/client-s3');
      return new S3Client({
        ...(await awsClientConfig(this.aws)),
        forcePathStyle: Boolean(this.aws.endpointUrl),
      });
    })();
    return this.client;
  }
}
