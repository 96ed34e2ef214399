import { stat } from 'node:fs/promises';
import { parseTimeBound } from '../common/time.js';
import { analyseAlbLogs } from '../logs/analyse.js';
import { analyseAthenaSource, isAthenaSource } from '../logs/athena/summary.js';
import type { AwsOptions } from '../logs/sources.js';
import { readProbeDir } from '../probe/report.js';
import type { FailureCount } from './compare.js';

/**
 * One side of a before/after comparison: a recorded probe run (a directory), or a time window
 * `SINCE..UNTIL` over ALB logs, where a failure is a 5xx answered by the load balancer.
 */
export async function failureCountOf(
  spec: string,
  options: { logs?: string[] | undefined; aws?: AwsOptions | undefined; now?: number | undefined },
): Promise<FailureCount & { source: string }> {
  const isDir = await stat(spec).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDir) {
    const report = await readProbeDir(spec);
    return {
      label: 'failure rate',
      failures: report.summary.failed,
      total: report.summary.total,
      source: `probe run ${spec}`,
    };
  }
  const m = /^(.+?)\.\.(.+)$/.exec(spec);
  if (!m) {
    const { UsageError } = await import('../common/errors.js');
    throw new UsageError(`"${spec}" is neither a probe directory nor a SINCE..UNTIL window over ALB logs`);
  }
  if (!options.logs || options.logs.length === 0) {
    const { InvalidOptionError } = await import('../common/errors.js');
    throw new InvalidOptionError(
      'logs',
      `expects ALB log sources to count the failures of the window ${spec} in`,
    );
  }
  const now = options.now ?? Date.now();
  const sinceMs = parseTimeBound(m[1] as string, 'window start', now);
  const untilMs = parseTimeBound(m[2] as string, 'window end', now);
  const athena = options.logs.length === 1 && isAthenaSource(options.logs[0] as string);
  const a = athena
    ? await analyseAthenaSource(options.logs[0] as string, options.aws ?? {}, { sinceMs, untilMs })
    : await analyseAlbLogs(options.logs, { sinceMs, untilMs, aws: options.aws });
  const fiveXx = Object.entries(a.summary.byElbStatus)
    .filter(([s]) => s.startsWith('5'))
    .reduce((n, [, v]) => n + v, 0);
  return { label: '5xx rate', failures: fiveXx, total: a.summary.requests, source: `ALB logs ${spec}` };
}
