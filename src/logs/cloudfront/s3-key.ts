/**
 * Standard-log object keys as CloudFront writes them:
 * `[<prefix>/]<distribution ID>.YYYY-MM-DD-HH.<unique ID>.gz`, the hour in UTC, e.g.
 * `example-prefix/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz`. A prefix that does not end in
 * `/` gets one. Several files can share an hour, and late entries go into a file named for the
 * hour the requests occurred. Source: AWS, "File name format"
 * (../shared/reference/cloudfront-athena-facts.md §A1.1).
 */

export const HOUR_MS = 3_600_000;

export interface CloudFrontLogKeyParts {
  /** Without the trailing `/`; empty when the logs sit at the bucket's root. */
  prefix: string;
  distributionId: string;
  /** Start of the hour the file's requests occurred in, epoch ms. */
  hourMs: number;
  unique: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function cloudFrontLogKey(parts: CloudFrontLogKeyParts): string {
  const d = new Date(parts.hourMs);
  const hour = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}`;
  const prefix = parts.prefix === '' ? '' : parts.prefix.endsWith('/') ? parts.prefix : `${parts.prefix}/`;
  return `${prefix}${parts.distributionId}.${hour}.${parts.unique}.gz`;
}

const FILE_NAME = /^([A-Z0-9]+)\.(\d{4})-(\d{2})-(\d{2})-(\d{2})\.([A-Za-z0-9]+)\.gz$/;

/** Parses a key or a bare file name in the CloudFront layout; undefined for anything else. */
export function parseCloudFrontLogKey(key: string): CloudFrontLogKeyParts | undefined {
  const slash = key.lastIndexOf('/');
  const m = FILE_NAME.exec(key.slice(slash + 1));
  if (!m) return undefined;
  const [, distributionId, y, mo, d, h, unique] = m as unknown as string[];
  const hourMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h));
  const back = new Date(hourMs);
  if (back.getUTCDate() !== Number(d) || back.getUTCHours() !== Number(h)) return undefined;
  return {
    prefix: slash < 0 ? '' : key.slice(0, slash),
    distributionId: distributionId as string,
    hourMs,
    unique: unique as string,
  };
}

/**
 * Whether a file named for the hour `hourMs` can hold entries in [sinceMs, untilMs). Entries are
 * filed under the hour they occurred, so the hour itself is the bound; lines are still filtered
 * one by one.
 */
export function cloudFrontKeyMayOverlap(
  hourMs: number,
  sinceMs: number | undefined,
  untilMs: number | undefined,
): boolean {
  if (sinceMs !== undefined && hourMs + HOUR_MS <= sinceMs) return false;
  if (untilMs !== undefined && hourMs >= untilMs) return false;
  return true;
}
