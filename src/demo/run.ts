import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ThrottlescopeError } from '../common/errors.js';
import { buildReportModel } from '../diagnose/report-model.js';
import type { RootCauseCode } from '../diagnose/rules.js';
import { runDiagnosis } from '../diagnose/run.js';
import { applyChanges } from '../fix/apply.js';
import { recommendFix } from '../fix/recommend.js';
import { startAwsEndpoint } from '../lab/aws-api/server.js';
import { builtinScenario } from '../lab/builtin.js';
import { startLab } from '../lab/index.js';
import { type ProbeProgress, type ProbeResult, runProbe } from '../probe/runner.js';
import { renderHtmlReport } from '../report/html.js';
import { compareFailureRates } from '../verify/compare.js';

export interface DemoOptions {
  /** Wall-clock seconds of each probe phase (before and after the fix). */
  probeSeconds?: number | undefined;
  /** Requests per second per URL. */
  rate?: number | undefined;
  /** Where the probe runs, rollback file and report go (default: a new temp directory). */
  outDir?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Narration, one line per step. */
  onStep?: ((line: string) => void) | undefined;
  onProgress?: ((phase: 'before' | 'after', progress: ProbeProgress) => void) | undefined;
}

interface ProbePhase {
  failureRate: number;
  total: number;
  failures: number;
  episodes: number;
}

/** What a demo run found; `demoJson` is its public `demo --json` document (docs/demo.md). */
export interface DemoResult {
  /** Viewers' view, through CloudFront; `inside` is the same load sent to the ALB directly. */
  before: ProbePhase & {
    /** Failures that were CloudFront replaying a cached error (Age). */
    cachedErrors: number;
    /** Failures answered with the distribution's custom error page (the origin hidden). */
    customErrorPages: number;
    inside: ProbePhase & { fromAlb: number };
  };
  diagnosis: {
    rootCause: RootCauseCode;
    culprit: string | null;
    victims: string[];
    confidence: number;
    headline: string;
    /** CloudFront's part (docs/diagnose.md): e.g. cloudfront-error-caching, cloudfront-masked-origin. */
    cloudfrontFindings: string[];
  };
  fix: { function: string; reservedConcurrency: number; rollbackFile: string | null };
  /** Through CloudFront again. */
  after: ProbePhase;
  verdict: { improved: boolean; pValue: number; test: string; sentence: string };
  report: string;
  outDir: string;
  wallSeconds: number;
}

/** The `demo --json` document: the result without where it ran and how long it took. */
export function demoJson(result: DemoResult): Omit<DemoResult, 'outDir' | 'wallSeconds'> {
  const { outDir: _outDir, wallSeconds: _wallSeconds, ...doc } = result;
  return doc;
}

const episodesOf = (r: ProbeResult) =>
  r.summary.urls.reduce((n, u) => n + u.episodes.length + u.episodesOmitted, 0);

const phase = (r: ProbeResult): ProbePhase => ({
  failureRate: r.summary.total ? r.summary.failed / r.summary.total : 0,
  total: r.summary.total,
  failures: r.summary.failed,
  episodes: episodesOf(r),
});

const percent = (r: ProbeResult) =>
  `${((100 * r.summary.failed) / Math.max(1, r.summary.total)).toFixed(1)}%`;

/**
 * The incident, end to end, on the embedded lab, in the steps the seed's author took: start the
 * noisy-neighbour account (CloudFront in front of the ALB), probe two endpoints through
 * CloudFront (masked errors, in streaks made longer by error caching), see from the hop
 * attribution that CloudFront hides the origin, probe the ALB directly (its own 502s), diagnose
 * through the lab's AWS endpoint (S3 logs, CloudWatch metrics, the inside probe; the same code as
 * against AWS), apply the recommended reserved concurrency through the Lambda API, probe through
 * CloudFront again, and test the difference. Loopback only; every phase is bounded.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const say = options.onStep ?? (() => undefined);
  const probeMs = Math.round((options.probeSeconds ?? 15) * 1000);
  const rate = options.rate ?? 5;
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'throttlescope-demo-')));
  await mkdir(outDir, { recursive: true });
  const scenario = builtinScenario('noisy-neighbour');
  if (!scenario)
    throw new ThrottlescopeError('TS_INTERNAL', 'the built-in noisy-neighbour scenario is missing');
  const lab = await startLab(scenario, { albPort: 0 });
  const cloudfront = lab.cloudfront;
  if (!cloudfront)
    throw new ThrottlescopeError('TS_INTERNAL', 'the built-in noisy-neighbour scenario has no CloudFront');
  const endpoint = await startAwsEndpoint(lab.backend, { port: 0 });
  try {
    const region = scenario.account.region;
    const accountId = scenario.account.id;
    const scale = scenario.timeScale;
    const wallRef = Date.now();
    const labRef = lab.clock.now();
    const labOf = (wall: number) => labRef + (wall - wallRef) * scale;
    say(
      `1. Lab up: CloudFront ${cloudfront.url} (${cloudfront.ids.id}) in front of the ALB ${lab.albUrl}, AWS endpoint ${endpoint.url} (account limit ${scenario.account.concurrencyLimit}, time x${scale}).`,
    );
    say(
      `   reports-worker, fed by a queue, is taking the shared concurrency pool; api and web sit behind the ALB.`,
    );
    // Let the runaway reach its steady state before measuring, as in the incident.
    await sleep(2500, undefined, { signal: options.signal }).catch(() => undefined);

    const paths = ['/api/cart', '/'];
    const viewerUrls = paths.map((p) => `${cloudfront.url}${p}`);
    const insideUrls = paths.map((p) => `${lab.albUrl}${p}`);
    const probe = (urls: string[], dir: string, seed: number, which: 'before' | 'after') =>
      runProbe(
        {
          urls,
          rate,
          durationMs: probeMs,
          outDir: join(outDir, dir),
          seed,
          timeoutMs: 5000,
          progressIntervalMs: 1000,
        },
        { signal: options.signal, onProgress: (p) => options.onProgress?.(which, p) },
      );
    const interrupted = () => {
      if (options.signal?.aborted) throw new ThrottlescopeError('TS_INTERRUPTED', 'demo interrupted');
    };

    say(
      `2. Probing through CloudFront, as viewers: ${viewerUrls.join(' and ')} at ${rate}/s each for ${probeMs / 1000} s...`,
    );
    const viewerStartLab = lab.clock.now();
    const before = await probe(viewerUrls, 'probe-before', 1, 'before');
    const b = before.summary;
    say(
      `   ${b.failed} of ${b.total} failed (${percent(before)}), in ${episodesOf(before)} streaks (longest ${b.longestStreak}); ${b.urls.filter((u) => u.failed > 0).length} of ${paths.length} URLs affected; ${b.cachedErrors} were CloudFront replaying a cached error (Age).`,
    );
    say(
      `   Hop attribution: ${b.byCloudFront['custom-error-page']} failure(s) were the site's custom error page served by CloudFront (origin ${b.byOrigin.cloudfront > 0 ? 'hidden' : 'visible'}): who failed cannot be told from outside.`,
    );
    interrupted();

    say(`   So, as the incident's author did, probing the origin directly: ${insideUrls.join(' and ')}...`);
    const inside = await probe(insideUrls, 'probe-inside', 3, 'before');
    const insideEndLab = lab.clock.now();
    const i = inside.summary;
    say(
      `   ${i.failed} of ${i.total} failed (${percent(inside)}); ${i.byOrigin.alb} of them from the ALB itself (HTTP 502, Server: awselb/2.0), none cached.`,
    );
    interrupted();

    await lab.flush();
    const bucket = scenario.loadBalancer.accessLogs.bucket;
    const prefix = scenario.loadBalancer.accessLogs.prefix
      ? `${scenario.loadBalancer.accessLogs.prefix}/`
      : '';
    const logs = `s3://${bucket}/${prefix}AWSLogs/${accountId}/elasticloadbalancing/${region}/`;
    const cfLogging = scenario.cloudfront?.logging;
    const viewerLogs = cfLogging
      ? `s3://${cfLogging.bucket}/${cfLogging.prefix ? `${cfLogging.prefix}/` : ''}`
      : undefined;
    say(
      `3. Diagnosing through the AWS endpoint: ALB logs from ${logs}${viewerLogs ? `, CloudFront logs from ${viewerLogs}` : ''}, distribution ${cloudfront.ids.id}'s config, CloudWatch metrics, the inside probe run...`,
    );
    const { evidence, diagnosis, metrics, cloudfrontFindings } = await runDiagnosis({
      logs: viewerLogs ? [logs, viewerLogs] : [logs],
      distribution: cloudfront.ids.id,
      probeDir: join(outDir, 'probe-inside'),
      endpointUrl: endpoint.url,
      region,
      cloudwatch: true,
      // From the viewers' probe on: the CloudFront side of the story is in that run.
      sinceMs: viewerStartLab - 60_000,
      untilMs: insideEndLab + 60_000,
      periodSec: 60,
      probeTimeMap: labOf,
      signal: options.signal,
    });
    say(`   root cause: ${diagnosis.rootCause} - ${diagnosis.headline}`);
    for (const line of diagnosis.findings[0]?.evidence.slice(0, 6) ?? []) say(`     - ${line.text}`);
    for (const f of cloudfrontFindings) say(`   ${f.code}: ${f.title}`);

    say(
      '4. Fixing: reserved concurrency for the culprit, applied through the Lambda API (PutFunctionConcurrency)...',
    );
    const plan = recommendFix(diagnosis, metrics, { unreservedMinimum: scenario.account.unreservedMinimum });
    const rollbackPath = join(outDir, 'rollback.json');
    const applied = await applyChanges(plan.changes, {
      endpointUrl: endpoint.url,
      region,
      apply: true,
      rollbackPath,
    });
    for (const c of applied.changes)
      say(`   ${c.function}: reserved concurrency ${c.before ?? 'none'} -> ${c.after ?? 'none'}`);
    say(`   (${plan.snippets.awsCli.split('\n')[0]}; rollback file ${rollbackPath})`);
    // Running invocations of the culprit finish under the old rules; wait for them to drain.
    await sleep(2500, undefined, { signal: options.signal }).catch(() => undefined);

    say(`5. Probing through CloudFront again for ${probeMs / 1000} s, as viewers...`);
    const after = await probe(viewerUrls, 'probe-after', 2, 'after');
    const a = after.summary;
    say(`   ${a.failed} of ${a.total} failed (${percent(after)}).`);

    const comparison = compareFailureRates(
      { label: 'failure rate', failures: b.failed, total: b.total },
      { label: 'failure rate', failures: a.failed, total: a.total },
    );
    say(`6. Verify (through CloudFront): ${comparison.sentence}`);

    const model = buildReportModel(evidence, diagnosis, {
      recommendation: {
        function: plan.function,
        reservedConcurrency: plan.reservedConcurrency,
        command: plan.snippets.awsCli,
        reasoning: plan.reasoning.join(' '),
      },
      verification: {
        before: { rate: comparison.before.rate, n: comparison.before.total },
        after: { rate: comparison.after.rate, n: comparison.after.total },
        pValue: comparison.pValue,
        verdict: comparison.verdict,
      },
    });
    const report = join(outDir, 'report.html');
    await writeFile(report, renderHtmlReport(model));
    say(`7. Report: ${report}`);
    return {
      before: {
        ...phase(before),
        cachedErrors: b.cachedErrors,
        customErrorPages: b.byCloudFront['custom-error-page'],
        inside: { ...phase(inside), fromAlb: i.byOrigin.alb },
      },
      diagnosis: {
        rootCause: diagnosis.rootCause,
        culprit: diagnosis.culprit,
        victims: diagnosis.victims,
        confidence: diagnosis.confidence,
        headline: diagnosis.headline,
        cloudfrontFindings: cloudfrontFindings.map((f) => f.code),
      },
      fix: {
        function: plan.function,
        reservedConcurrency: plan.reservedConcurrency,
        rollbackFile: applied.rollbackPath ?? null,
      },
      after: phase(after),
      verdict: {
        improved: comparison.improved,
        pValue: comparison.pValue,
        test: comparison.test,
        sentence: comparison.sentence,
      },
      report,
      outDir,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await endpoint.close();
    await lab.close();
  }
}
