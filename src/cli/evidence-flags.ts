import { UsageError } from '../common/errors.js';
import { parseTimeBound } from '../common/time.js';
import type { DiagnoseOptions } from '../diagnose/run.js';
import type { CliContext } from './context.js';
import { numberFlag } from './flags.js';

/** The evidence flags `diagnose` and `fix` share (parseArgs option table). */
export const EVIDENCE_OPTIONS = {
  logs: { type: 'string', multiple: true },
  probe: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  period: { type: 'string' },
  'no-cloudwatch': { type: 'boolean', default: false },
  'no-target-groups': { type: 'boolean', default: false },
  region: { type: 'string' },
  profile: { type: 'string' },
  'endpoint-url': { type: 'string' },
} as const;

export interface EvidenceValues {
  logs?: string[] | undefined;
  probe?: string | undefined;
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
  const sinceMs = values.since ? parseTimeBound(values.since, '--since', now) : undefined;
  const untilMs = values.until ? parseTimeBound(values.until, '--until', now) : undefined;
  if (sinceMs !== undefined && untilMs !== undefined && untilMs <= sinceMs) {
    throw new UsageError(`${command}: --until must be after --since`);
  }
  return {
    logs: values.logs,
    probeDir: values.probe,
    cloudwatch: values['no-cloudwatch'] ? false : undefined,
    targetGroups: values['no-target-groups'] ? false : undefined,
    sinceMs,
    untilMs,
    periodSec: numberFlag(command, 'period', values.period, { min: 1, integer: true }),
    region: values.region,
    profile: values.profile,
    endpointUrl: values['endpoint-url'] ?? ctx.env.AWS_ENDPOINT_URL,
    signal: ctx.signal,
    env: ctx.env,
    now,
  };
}
