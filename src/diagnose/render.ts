/** The diagnosis as its --json document and as terminal text; both returned, never printed. */
import { safeForTerminal } from '../common/terminal.js';
import { isoUtc } from '../common/time.js';
import { type CloudFrontFinding, edgeMinutes } from './cloudfront.js';
import type { DiagnoseResult } from './run.js';

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
    findings: [
      ...d.findings.map((f) => ({
        code: f.code,
        title: f.title,
        confidence: Number(f.confidence.toFixed(2)),
        culprit: f.culprit ?? null,
        victims: f.victims ?? [],
        evidence: f.evidence.map((e) =>
          e.timeMs === undefined ? { text: e.text } : { text: e.text, time: isoUtc(e.timeMs) },
        ),
      })),
      ...r.cloudfrontFindings.map(cloudFrontFindingJson),
    ],
    evidenceChain: d.evidenceChain,
    gaps: d.gaps,
    ...cloudFrontJson(r),
  };
}

/** CloudFront findings join `findings` (with their fix); the per-minute join is `cloudfront`. */
function cloudFrontJson(r: DiagnoseResult) {
  const cf = r.evidence.cloudfront;
  if (!cf) return {};
  const alb = r.evidence.logs && r.evidence.logs.summary.files > 0 ? r.evidence.logs.summary : undefined;
  const minutes = edgeMinutes(cf, alb);
  const total = (k: 'viewer5xx' | 'viewerOrigin5xx' | 'alb5xx' | 'replayed') =>
    minutes.reduce((n, m) => n + m[k], 0);
  return {
    cloudfront: {
      distributionId: cf.config?.distributionId ?? cf.metrics?.distributionId ?? null,
      viewerSource: cf.logs ? 'logs' : cf.metrics ? 'metrics' : null,
      viewer5xx: total('viewer5xx'),
      viewerOrigin5xx: total('viewerOrigin5xx'),
      alb5xx: total('alb5xx'),
      replayed: total('replayed'),
      series: minutes.map((m) => ({
        minute: isoUtc(m.minuteMs),
        viewer5xx: m.viewer5xx,
        viewerOrigin5xx: m.viewerOrigin5xx,
        alb5xx: m.alb5xx,
        replayed: m.replayed,
      })),
    },
  };
}

function cloudFrontFindingJson(f: CloudFrontFinding) {
  return {
    code: f.code,
    title: f.title,
    confidence: Number(f.confidence.toFixed(2)),
    culprit: null,
    victims: [],
    evidence: f.evidence.map((e) =>
      e.timeMs === undefined ? { text: e.text } : { text: e.text, time: isoUtc(e.timeMs) },
    ),
    ...(f.fix ? { fix: f.fix } : {}),
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
  for (const f of r.cloudfrontFindings) {
    out.push('', `CloudFront: ${f.code} (${(f.confidence * 100).toFixed(0)}%): ${f.title}`);
    for (const e of f.evidence) out.push(`  - ${e.text}`);
    if (f.fix) {
      out.push(`  Fix: ${f.fix.summary}`, '  CloudFormation:');
      for (const l of f.fix.cloudformation.split('\n')) out.push(`    ${l}`);
      out.push('  Terraform:');
      for (const l of f.fix.terraform.split('\n')) out.push(`    ${l}`);
    }
  }
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
