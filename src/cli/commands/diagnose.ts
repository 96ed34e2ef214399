import { writeFile } from 'node:fs/promises';
import { ExitCode, ThrottlescopeError, UsageError } from '../../common/errors.js';
import { diagnosisJson, renderDiagnosis } from '../../diagnose/render.js';
import { buildReportModel } from '../../diagnose/report-model.js';
import { runDiagnosis } from '../../diagnose/run.js';
import { renderHtmlReport } from '../../report/html.js';
import type { Command } from '../context.js';
import { diagnoseOptionsFrom, EVIDENCE_FLAGS } from '../evidence-flags.js';
import { helpText, parseFlags } from '../flags.js';
import { diagnoseProgress, progressFor } from '../progress.js';

const FLAGS = {
  ...EVIDENCE_FLAGS,
  json: {
    type: 'boolean',
    help: 'print { rootCause, culprit, victims, confidence, headline, findings, evidenceChain, gaps }',
  },
  html: { type: 'string', arg: 'FILE', help: 'write a self-contained HTML report with charts' },
} as const;

const usage = helpText({
  usage: 'Usage: throttlescope diagnose [--logs SOURCE]... [--probe DIR] [options]',
  about: `Join the evidence - probe failures, ALB access logs, CloudWatch metrics - into a root cause.
Progress (log objects and bytes read, CloudWatch calls) goes to stderr, none with --json.`,
  flags: FLAGS,
  footer: `Exit: 0 healthy (no failures in the evidence), 6 any other root cause (the --json document is
printed either way), 2 usage, 3 no evidence could be read.`,
});

export const command: Command = {
  name: 'diagnose',
  summary: 'join probe, logs and metrics into a root cause',
  usage,
  flagTables: [FLAGS],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags('diagnose', FLAGS, argv);
    if (positionals.length > 0) {
      throw new UsageError(`diagnose: unexpected argument "${positionals[0]}" (give logs with --logs)`);
    }
    const now = Date.now();
    const progress = progressFor(ctx, { json: values.json === true });
    const result = await runDiagnosis({
      ...diagnoseOptionsFrom('diagnose', values, ctx, now),
      onProgress: (p) => progress.update(diagnoseProgress(p)),
    }).finally(() => progress.done());
    const e = result.evidence;
    if (!e.logs && !e.metrics && !e.probe) {
      throw new ThrottlescopeError('TS_NO_EVIDENCE', `no evidence could be read: ${e.gaps.join('; ')}`);
    }
    if (values.html) {
      const html = renderHtmlReport(buildReportModel(e, result.diagnosis, { now }));
      try {
        await writeFile(values.html, html);
      } catch (error) {
        throw new ThrottlescopeError(
          'TS_OUTPUT_UNWRITABLE',
          `cannot write ${values.html}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    ctx.stdout.write(
      values.json ? `${JSON.stringify(diagnosisJson(result), null, 2)}\n` : renderDiagnosis(result),
    );
    if (values.html && !values.json) ctx.stdout.write(`\nHTML report: ${values.html}\n`);
    // A verdict scripts and CI can gate on: anything but "healthy" is a finding.
    return result.diagnosis.rootCause === 'healthy' ? ExitCode.ok : ExitCode.verdict;
  },
};
