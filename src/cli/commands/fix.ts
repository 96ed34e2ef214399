import { parseArgs } from 'node:util';
import { ExitCode, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { runDiagnosis } from '../../diagnose/run.js';
import { applyChanges, rollbackChanges } from '../../fix/apply.js';
import { recommendFix } from '../../fix/recommend.js';
import type { Command } from '../context.js';
import { diagnoseOptionsFrom, EVIDENCE_OPTIONS } from '../evidence-flags.js';
import { numberFlag, withUsage } from '../flags.js';

const usage = `Usage: throttlescope fix [--logs SOURCE]... [--probe DIR] [options]
       throttlescope fix --rollback FILE [--region R --profile P --endpoint-url URL]

Diagnose (as "diagnose" does), then recommend reserved concurrency for the culprit and any
guarantee its victims need (when several functions together exhaust the pool: guarantees for the
starved functions), sized with the planner's queueing model. Prints the aws CLI command and
Terraform, SAM and CDK snippets. Nothing is changed without --apply.

Options:
  --apply                call PutFunctionConcurrency (writes a rollback file first)
  --rollback-file PATH   where --apply records the previous values (default ./throttlescope-rollback-<time>.json)
  --rollback FILE        restore the values recorded in FILE
  --target-blocking P    acceptable throttle probability for victims (default 0.001)
  --unreserved-minimum N override the concurrency AWS keeps unreserved (default 100, scaled for small limits)
  --since T --until T --period S --no-cloudwatch --no-target-groups --region R --profile P --endpoint-url URL
  --json                 print the plan (and what was applied) as JSON

Exit: 0 planned/applied/rolled back, 2 usage, 3 no metrics to size from, 4 AWS refused (TS_FIX_REFUSED), 6 nothing to fix.
`;

export const command: Command = {
  name: 'fix',
  summary: 'recommend (and with --apply, set) reserved concurrency',
  usage,
  async run(argv, ctx) {
    const { values } = withUsage('fix', () =>
      parseArgs({
        args: argv,
        options: {
          ...EVIDENCE_OPTIONS,
          apply: { type: 'boolean', default: false },
          'rollback-file': { type: 'string' },
          rollback: { type: 'string' },
          'target-blocking': { type: 'string' },
          'unreserved-minimum': { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      }),
    );
    const conn = {
      region: values.region,
      profile: values.profile,
      endpointUrl: values['endpoint-url'] ?? ctx.env.AWS_ENDPOINT_URL,
    };
    if (values.rollback) {
      const restored = await rollbackChanges(values.rollback, conn);
      if (values.json) ctx.stdout.write(`${JSON.stringify({ rolledBack: restored }, null, 2)}\n`);
      else
        for (const c of restored)
          ctx.stdout.write(
            `restored ${safeForTerminal(c.function)}: ${c.before ?? 'none'} -> ${c.after ?? 'none'}\n`,
          );
      return ExitCode.ok;
    }
    const targetBlocking = numberFlag('fix', 'target-blocking', values['target-blocking'], { min: 0 });
    if (targetBlocking !== undefined && (targetBlocking <= 0 || targetBlocking >= 1)) {
      throw new UsageError('fix: --target-blocking expects a probability between 0 and 1, e.g. 0.001');
    }
    const now = Date.now();
    const { diagnosis, metrics } = await runDiagnosis(diagnoseOptionsFrom('fix', values, ctx, now));
    const plan = recommendFix(diagnosis, metrics, {
      targetBlocking,
      unreservedMinimum: numberFlag('fix', 'unreserved-minimum', values['unreserved-minimum'], {
        min: 0,
        integer: true,
      }),
    });
    const result = await applyChanges(plan.changes, {
      ...conn,
      apply: values.apply,
      rollbackPath: values['rollback-file'],
      now,
    });
    if (values.json) {
      ctx.stdout.write(
        `${JSON.stringify(
          {
            rootCause: diagnosis.rootCause,
            function: plan.function,
            reservedConcurrency: plan.reservedConcurrency,
            changes: result.changes,
            dryRun: result.dryRun,
            rollbackFile: result.rollbackPath ?? null,
            reasoning: plan.reasoning,
            snippets: plan.snippets,
          },
          null,
          2,
        )}\n`,
      );
      return ExitCode.ok;
    }
    const out: string[] = [];
    out.push(`Diagnosis: ${diagnosis.rootCause}: ${diagnosis.headline}`, '', 'Recommendation:');
    for (const c of result.changes)
      out.push(`  ${c.function}: reserved concurrency ${c.before ?? 'none'} -> ${c.after ?? 'none'}`);
    out.push('', 'Why:');
    for (const r of plan.reasoning) out.push(`  - ${r}`);
    out.push('', 'Equivalent command:', ...plan.snippets.awsCli.split('\n').map((l) => `  ${l}`));
    out.push('', 'Terraform:', ...plan.snippets.terraform.split('\n').map((l) => `  ${l}`));
    out.push('', 'SAM / CloudFormation:', ...plan.snippets.sam.split('\n').map((l) => `  ${l}`));
    out.push('', 'CDK:', ...plan.snippets.cdk.split('\n').map((l) => `  ${l}`));
    out.push(
      '',
      result.dryRun
        ? 'Dry run: nothing was changed. Re-run with --apply to set these values (a rollback file is written first).'
        : `Applied. Previous values saved in ${result.rollbackPath}; undo with: throttlescope fix --rollback ${result.rollbackPath}`,
    );
    ctx.stdout.write(`${out.map(safeForTerminal).join('\n')}\n`);
    return ExitCode.ok;
  },
};
