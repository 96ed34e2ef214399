import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ExitCode, ThrottlescopeError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { isoUtc } from '../../common/time.js';
import { buildReportModel } from '../../diagnose/report-model.js';
import { type DiagnoseResult, runDiagnosis } from '../../diagnose/run.js';
import { renderHtmlReport } from '../../report/html.js';
import type { Command } from '../context.js';
import { diagnoseOptionsFrom, EVIDENCE_OPTIONS } from '../evidence-flags.js';
import { withUsage } from '../flags.js';

const usage = `Usage: throttlescope diagnose [--logs SOURCE]... [--probe DIR] [options]

Join the evidence - probe failures, ALB access logs, CloudWatch metrics - into a root cause.

Options:
  --logs SOURCE        ALB access logs: file, directory, - or s3://bucket/prefix (repeatable)
  --probe DIR          a recorded probe run (throttlescope probe --out DIR)
  --since T --until T  the window (default: the probe run +-2 min, else the last hour)
  --period S           CloudWatch period in seconds (default 60)
  --no-cloudwatch      do not read CloudWatch (default: read it when credentials or --endpoint-url exist)
  --no-target-groups   do not ask ELBv2 which functions stand behind throttled target groups (same default)
  --region R --profile P --endpoint-url URL
  --json               print { rootCause, culprit, victims, confidence, headline, findings, evidenceChain, gaps }
  --html FILE          write a self-contained HTML report with charts

Exit: 0 healthy (no failures in the evidence), 6 any other root cause (the --json document is
printed either way), 2 usage, 3 no evidence could be read.
`;

/** The public --json document (docs/diagnose.md). */
export function diagnosisJson(r: DiagnoseResult) {
  const d = r.diagnosis;
  return {
    rootCause: d.rootCause,
    culprit: d.culprit,
    victims: d.victims,
    confidence: Number(d.confidence.toFixed(2)),
    headline: d.headline,
    window: { start: isoUtc(r.evidence.window.startMs), end: isoUtc(r.evidence.window.endMs) },
    findings: d.findings.map((f) => ({
      code: f.code,
      title: f.title,
      confidence: Number(f.confidence.toFixed(2)),
      culprit: f.culprit ?? null,
      victims: f.victims ?? [],
      evidence: f.evidence.map((e) =>
        e.timeMs === undefined ? { text: e.text } : { text: e.text, time: isoUtc(e.timeMs) },
      ),
    })),
    evidenceChain: d.evidenceChain,
    gaps: d.gaps,
  };
}

export function renderDiagnosis(r: DiagnoseResult): string {
  const d = r.diagnosis;
  const out: string[] = [];
  out.push(`Root cause: ${d.rootCause} (confidence ${(d.confidence * 100).toFixed(0)}%)`);
  out.push(`  ${d.headline}`);
  if (d.culprit) out.push(`  culprit: ${d.culprit}`);
  if (d.victims.length > 0) out.push(`  victims: ${d.victims.join(', ')}`);
  const top = d.findings[0];
  if (top) {
    out.push('', 'Evidence:');
    for (const e of top.evidence) out.push(`  - ${e.text}`);
  }
  for (const f of d.findings.slice(1))
    out.push('', `Also: ${f.code} (${(f.confidence * 100).toFixed(0)}%): ${f.title}`);
  if (d.gaps.length > 0) {
    out.push('', 'Not checked / missing:');
    for (const g of d.gaps) out.push(`  - ${g}`);
  }
  if (d.rootCause === 'account-concurrency-exhausted' && d.culprit) {
    out.push(
      '',
      `Next: throttlescope fix   (recommends reserved concurrency for ${d.culprit}; dry run unless --apply)`,
    );
  }
  return `${out.map(safeForTerminal).join('\n')}\n`;
}

export const command: Command = {
  name: 'diagnose',
  summary: 'join probe, logs and metrics into a root cause',
  usage,
  async run(argv, ctx) {
    const { values } = withUsage('diagnose', () =>
      parseArgs({
        args: argv,
        options: {
          ...EVIDENCE_OPTIONS,
          json: { type: 'boolean', default: false },
          html: { type: 'string' },
        },
      }),
    );
    const now = Date.now();
    const result = await runDiagnosis(diagnoseOptionsFrom('diagnose', values, ctx, now));
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
