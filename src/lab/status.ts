import type { Lab, LabSnapshot } from './index.js';

/**
 * Text renderings of a lab snapshot for the CLI: they return strings and never print.
 */

function pct(n: number, d: number): string {
  return d > 0 ? `${((100 * n) / d).toFixed(1)}%` : '-';
}

function labDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

const sumReason = (s: LabSnapshot, reason: string) => s.alb.byErrorReason[reason] ?? 0;
const sum5xx = (s: LabSnapshot) =>
  Object.entries(s.alb.byElbStatus)
    .filter(([k]) => k.startsWith('5'))
    .reduce((n, [, v]) => n + v, 0);

/**
 * One status line: lab time, per-function concurrency (in flight / reserved) and throttles, the
 * pool, and the ALB's 502 rate overall and since `prev`.
 */
export function renderStatusLine(cur: LabSnapshot, prev?: LabSnapshot): string {
  const fns = cur.functions.map((f) => {
    const p = prev?.functions.find((x) => x.name === f.name);
    const dt = f.throttles - (p?.throttles ?? 0);
    const cap = f.reserved === undefined ? '' : `/${f.reserved}r`;
    return `${f.name} ${f.inFlight}${cap}${f.throttles > 0 ? ` thr ${f.throttles}${prev && dt > 0 ? `(+${dt})` : ''}` : ''}`;
  });
  const req = cur.alb.requests;
  const t502 = cur.alb.byElbStatus['502'] ?? 0;
  let recent = '';
  if (prev) {
    const dr = req - prev.alb.requests;
    const d502 = t502 - (prev.alb.byElbStatus['502'] ?? 0);
    recent = ` (now ${pct(d502, dr)})`;
  }
  let edge = '';
  const cf = cur.cloudfront;
  if (cf) {
    const c502 = cf.byStatus['502'] ?? 0;
    const pcf = prev?.cloudfront;
    const now = pcf ? ` (now ${pct(c502 - (pcf.byStatus['502'] ?? 0), cf.requests - pcf.requests)})` : '';
    edge = ` | CloudFront ${cf.requests} req, 502 ${pct(c502, cf.requests)}${now}, ${cf.cachedErrors} cached`;
  }
  return `lab ${labDuration(cur.elapsedMs)} | pool ${cur.pool.concurrentExecutions}/${cur.pool.accountLimit} | ${fns.join(' | ')} | ALB ${req} req, 502 ${pct(t502, req)}${recent}${edge}`;
}

/** The summary printed on shutdown. */
export function renderSummary(s: LabSnapshot): string {
  const lines: string[] = [];
  const req = s.alb.requests;
  lines.push(`Ran ${labDuration(s.elapsedMs)} of lab time.`);
  lines.push(
    `ALB: ${req} requests; 5xx ${sum5xx(s)} (${pct(sum5xx(s), req)}); 502 LambdaThrottling ${sumReason(s, 'LambdaThrottling')} (${pct(sumReason(s, 'LambdaThrottling'), req)})`,
  );
  const reasons = Object.entries(s.alb.byErrorReason).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) lines.push(`  error_reason: ${reasons.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push('Lambda:');
  for (const f of s.functions) {
    lines.push(
      `  ${f.name.padEnd(20)} invocations ${f.invocations}, errors ${f.errors}, throttles ${f.throttles}${f.reserved === undefined ? '' : `, reserved ${f.reserved}`}`,
    );
  }
  for (const b of s.background) {
    lines.push(
      `Background ${b.name} (${b.kind} -> ${b.function}): ${b.arrived} arrived, backlog ${b.backlog}`,
    );
  }
  const cf = s.cloudfront;
  if (cf) {
    const cf5xx = Object.entries(cf.byStatus)
      .filter(([k]) => k.startsWith('5'))
      .reduce((n, [, v]) => n + v, 0);
    lines.push(
      `CloudFront: ${cf.requests} viewer requests; 5xx ${cf5xx} (${pct(cf5xx, cf.requests)}); cached error replays ${cf.cachedErrors}; custom error pages ${cf.customErrorPages}; standard logs ${cf.logLinesDelivered} entries in ${cf.logFilesDelivered} file(s)`,
    );
  }
  lines.push(
    `Access logs: ${s.accessLogs.linesDelivered} entries in ${s.accessLogs.filesDelivered} file(s)${s.accessLogs.pendingLines > 0 ? `, ${s.accessLogs.pendingLines} pending` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** What `throttlescope lab` prints first: where the ALB and the AWS endpoint listen, and how to use them. */
export function renderBanner(lab: Lab, awsUrl: string, dataDir: string | undefined): string {
  const s = lab.scenario;
  const logs = s.loadBalancer.accessLogs;
  const out: string[] = [];
  out.push(
    `throttlescope lab: ${s.name}${s.timeScale !== 1 ? ` (lab time runs ${s.timeScale}x faster)` : ''}`,
  );
  out.push(`  ALB           ${lab.albUrl}   (${lab.loadBalancer.dimension})`);
  if (lab.cloudfront) out.push(`  CloudFront    ${lab.cloudfront.url}   (${lab.cloudfront.ids.id})`);
  out.push(
    `  AWS endpoint  ${awsUrl}   (Lambda, S3, CloudWatch, ELBv2, Athena, CloudFront; any credentials)`,
  );
  out.push('');
  out.push(
    `    export AWS_ENDPOINT_URL=${awsUrl} AWS_REGION=${s.account.region} AWS_DEFAULT_REGION=${s.account.region} AWS_ACCESS_KEY_ID=lab AWS_SECRET_ACCESS_KEY=lab`,
  );
  out.push(`    aws --endpoint-url ${awsUrl} lambda get-account-settings`);
  out.push(`    aws --endpoint-url ${awsUrl} s3 ls s3://${logs.bucket}/ --recursive`);
  out.push('');
  out.push(
    `  Access logs   s3://${logs.bucket}/${logs.prefix ? `${logs.prefix.replace(/\/+$/, '')}/` : ''}AWSLogs/${s.account.id}/elasticloadbalancing/${s.account.region}/... every ${logs.interval / 1000}s of lab time${dataDir ? `, mirrored under ${dataDir}` : ''}`,
  );
  const cfLogs = s.cloudfront?.logging;
  if (lab.cloudfront && cfLogs) {
    out.push(
      `  CloudFront logs s3://${cfLogs.bucket}/${cfLogs.prefix ? `${cfLogs.prefix.replace(/\/+$/, '')}/` : ''}${lab.cloudfront.ids.id}.YYYY-MM-DD-HH.*.gz every ${cfLogs.interval / 1000}s of lab time`,
    );
  }
  out.push(`  Lab clock     ${new Date(lab.clock.now()).toISOString()} now; metrics and logs carry lab time`);
  out.push('  Ctrl-C to stop (logs and metrics are flushed).');
  return `${out.join('\n')}\n`;
}
