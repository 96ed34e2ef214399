/**
 * Access-log object keys as the ALB writes them:
 * bucket[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/<yyyy>/<mm>/<dd>/
 *   <account>_elasticloadbalancing_<region>_app.<lb-name>.<lb-id>_<end YYYYMMDDTHHMMZ>_<node-ip>_<random>.log.gz
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-file-format
 */

/** AWS delivers a file per node every 5 minutes; its name carries the end of that interval. */
export const DELIVERY_INTERVAL_MS = 5 * 60_000;

export interface AlbLogKeyParts {
  prefix: string;
  accountId: string;
  region: string;
  loadBalancerName: string;
  loadBalancerId: string;
  /** End of the delivery interval, epoch ms (minute precision). */
  endMs: number;
  nodeIp: string;
  random: string;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function endStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
}

/** The folder for one day: `[prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/`. */
export function albLogDayPrefix(prefix: string, accountId: string, region: string, dayMs: number): string {
  const d = new Date(dayMs);
  const base = prefix ? `${prefix.replace(/\/+$/, '')}/` : '';
  return `${base}AWSLogs/${accountId}/elasticloadbalancing/${region}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/`;
}

export function albLogKey(parts: AlbLogKeyParts): string {
  const { accountId, region } = parts;
  return `${albLogDayPrefix(parts.prefix, accountId, region, parts.endMs)}${accountId}_elasticloadbalancing_${region}_app.${parts.loadBalancerName}.${parts.loadBalancerId}_${endStamp(parts.endMs)}_${parts.nodeIp}_${parts.random}.log.gz`;
}

const FILE_NAME =
  /^(\d{12})_elasticloadbalancing_([a-z0-9-]+)_app\.(.+)\.([0-9a-f]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_([0-9a-fA-F.:]+)_([A-Za-z0-9]+)\.log(\.gz)?$/;

/** Parses a key or a bare file name in the AWS layout; undefined for anything else. */
export function parseAlbLogKey(key: string): AlbLogKeyParts | undefined {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  const m = FILE_NAME.exec(name);
  if (!m) return undefined;
  const [, accountId, region, lbName, lbId, y, mo, d, h, mi, nodeIp, random] = m as unknown as string[];
  const awsLogs = key.indexOf('AWSLogs/');
  return {
    prefix: awsLogs > 0 ? key.slice(0, awsLogs).replace(/\/+$/, '') : '',
    accountId: accountId as string,
    region: region as string,
    loadBalancerName: lbName as string,
    loadBalancerId: lbId as string,
    endMs: Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)),
    nodeIp: nodeIp as string,
    random: random as string,
  };
}

/**
 * Whether a file whose name says it ends at `endMs` can hold entries in [sinceMs, untilMs).
 * Delivery is best effort and entries are not in order, so a file is kept if its interval
 * (widened by one interval each side) touches the window; lines are still filtered one by one.
 */
export function keyMayOverlap(
  endMs: number,
  sinceMs: number | undefined,
  untilMs: number | undefined,
): boolean {
  const from = endMs - 2 * DELIVERY_INTERVAL_MS;
  const to = endMs + DELIVERY_INTERVAL_MS;
  if (sinceMs !== undefined && to < sinceMs) return false;
  if (untilMs !== undefined && from >= untilMs) return false;
  return true;
}
