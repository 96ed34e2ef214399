import type { DiagnoseOptions } from '../diagnose/run.js';
import type { CliContext } from './context.js';
import { AWS_FLAGS, awsConnectionFrom, numberFlag, timeWindowFlags } from './flags.js';

/** The evidence flags `diagnose` and `fix` share. */
export const EVIDENCE_FLAGS = {
  logs: {
    type: 'string',
    multiple: true,
    arg: 'SOURCE',
    help: 'ALB access logs and/or CloudFront standard logs: file, directory, - or s3://bucket/prefix (repeatable)',
  },
  probe: { type: 'string', arg: 'DIR', help: 'a recorded probe run (throttlescope probe --out DIR)' },
  distribution: {
    type: 'string',
    arg: 'ID',
    help: 'the CloudFront distribution in front: read its config and AWS/CloudFront metrics',
  },
  since: {
    type: 'string',
    arg: 'T',
    help: 'window start (default: the probe run -2 min, else an hour before --until)',
  },
  until: { type: 'string', arg: 'T', help: 'window end (default: the probe run +2 min, else now)' },
  period: { type: 'string', arg: 'S', help: 'CloudWatch period in seconds (default 60)' },
  'no-cloudwatch': {
    type: 'boolean',
    help: 'do not read CloudWatch (default: read it when credentials or --endpoint-url exist)',
  },
  'no-target-groups': {
    type: 'boolean',
    help: 'do not ask ELBv2 which functions stand behind throttled target groups (same default)',
  },
  ...AWS_FLAGS,
} as const;

export interface EvidenceValues {
  logs?: string[] | undefined;
  probe?: string | undefined;
  distribution?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  period?: string | undefined;
  'no-cloudwatch'?: boolean | undefined;
  'no-target-groups'?: boolean | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  'endpoint-url'?: string | undefined;
}

/** Turns the shared flags into runDiagnosis options, checking the window once. */
export function diagnoseOptionsFrom(
  command: string,
  values: EvidenceValues,
  ctx: CliContext,
  now: number,
): DiagnoseOptions {
  const { sinceMs, untilMs } = timeWindowFlags(command, values, now);
  return {
    logs: values.logs,
    probeDir: values.probe,
    distribution: values.distribution,
    cloudwatch: values['no-cloudwatch'] ? false : undefined,
    targetGroups: values['no-target-groups'] ? false : undefined,
    sinceMs,
    untilMs,
    periodSec: numberFlag(command, 'period', values.period, { min: 1, integer: true }),
    ...awsConnectionFrom(values, ctx.env),
    signal: ctx.signal,
    env: ctx.env,
    now,
  };
}
