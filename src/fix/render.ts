/** A fix plan (and what was applied) as its --json document and as terminal text; returned, never printed. */
import { safeForTerminal } from '../common/terminal.js';
import type { Diagnosis } from '../diagnose/rules.js';
import type { ApplyResult } from './apply.js';
import type { ConcurrencyChange, FixPlan } from './recommend.js';

/** The public --json document of `fix` (docs/fix.md). */
export function fixJson(diagnosis: Diagnosis, plan: FixPlan, result: ApplyResult) {
  return {
    rootCause: diagnosis.rootCause,
    function: plan.function,
    reservedConcurrency: plan.reservedConcurrency,
    changes: result.changes,
    dryRun: result.dryRun,
    rollbackFile: result.rollbackPath ?? null,
    reasoning: plan.reasoning,
    snippets: plan.snippets,
  };
}

export function renderFix(diagnosis: Diagnosis, plan: FixPlan, result: ApplyResult): string {
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
  return `${out.map(safeForTerminal).join('\n')}\n`;
}

/** One line per restored function. */
export function renderRollback(restored: readonly ConcurrencyChange[]): string {
  return restored
    .map((c) => `restored ${safeForTerminal(c.function)}: ${c.before ?? 'none'} -> ${c.after ?? 'none'}\n`)
    .join('');
}
