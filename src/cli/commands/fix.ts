import { ExitCode, UsageError } from '../../common/errors.js';
import { runDiagnosis } from '../../diagnose/run.js';
import { applyChanges, rollbackChanges } from '../../fix/apply.js';
import { recommendFix } from '../../fix/recommend.js';
import { fixJson, renderFix, renderRollback } from '../../fix/render.js';
import type { Command } from '../context.js';
import { diagnoseOptionsFrom, EVIDENCE_FLAGS } from '../evidence-flags.js';
import { awsConnectionFrom, helpText, numberFlag, parseFlags, probabilityFlag } from '../flags.js';
import { diagnoseProgress, progressFor } from '../progress.js';

const FLAGS = {
  apply: { type: 'boolean', help: 'call PutFunctionConcurrency (writes a rollback file first)' },
  'rollback-file': {
    type: 'string',
    arg: 'PATH',
    help: 'where --apply records the previous values (default ./throttlescope-rollback-<time>.json)',
  },
  rollback: { type: 'string', arg: 'FILE', help: 'restore the values recorded in FILE' },
  'target-blocking': {
    type: 'string',
    arg: 'P',
    help: 'acceptable throttle probability for victims (default 0.001)',
  },
  'unreserved-minimum': {
    type: 'string',
    arg: 'N',
    help: 'override the concurrency AWS keeps unreserved (default 100, scaled for small limits)',
  },
  ...EVIDENCE_FLAGS,
  json: { type: 'boolean', help: 'print the plan (and what was applied) as JSON' },
} as const;

const usage = helpText({
  usage: `Usage: throttlescope fix [--logs SOURCE]... [--probe DIR] [options]
       throttlescope fix --rollback FILE [--region R --profile P --endpoint-url URL]`,
  about: `Diagnose (as "diagnose" does), then recommend reserved concurrency for the culprit and any
guarantee its victims need (when several functions together exhaust the pool: guarantees for the
starved functions), sized with the planner's queueing model. Prints the aws CLI command and
Terraform, SAM and CDK snippets. Nothing is changed without --apply.`,
  flags: FLAGS,
  footer:
    'Exit: 0 planned/applied/rolled back, 2 usage, 3 no metrics to size from, 4 AWS refused (TS_FIX_REFUSED), 6 nothing to fix.',
});

export const command: Command = {
  name: 'fix',
  summary: 'recommend (and with --apply, set) reserved concurrency',
  usage,
  flagTables: [FLAGS],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags('fix', FLAGS, argv);
    if (positionals.length > 0) {
      throw new UsageError(`fix: unexpected argument "${positionals[0]}" (give logs with --logs)`);
    }
    const conn = awsConnectionFrom(values, ctx.env);
    if (values.rollback) {
      const restored = await rollbackChanges(values.rollback, conn);
      ctx.stdout.write(
        values.json ? `${JSON.stringify({ rolledBack: restored }, null, 2)}\n` : renderRollback(restored),
      );
      return ExitCode.ok;
    }
    const targetBlocking = probabilityFlag('fix', 'target-blocking', values['target-blocking']);
    const unreservedMinimum = numberFlag('fix', 'unreserved-minimum', values['unreserved-minimum'], {
      min: 0,
      integer: true,
    });
    const now = Date.now();
    const progress = progressFor(ctx, { json: values.json === true });
    const { diagnosis, metrics } = await runDiagnosis({
      ...diagnoseOptionsFrom('fix', values, ctx, now),
      onProgress: (p) => progress.update(diagnoseProgress(p)),
    }).finally(() => progress.done());
    const plan = recommendFix(diagnosis, metrics, { targetBlocking, unreservedMinimum });
    const result = await applyChanges(plan.changes, {
      ...conn,
      apply: values.apply === true,
      rollbackPath: values['rollback-file'],
      now,
    });
    ctx.stdout.write(
      values.json
        ? `${JSON.stringify(fixJson(diagnosis, plan, result), null, 2)}\n`
        : renderFix(diagnosis, plan, result),
    );
    return ExitCode.ok;
  },
};
