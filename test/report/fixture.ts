import type { ReportModel } from '../../src/report/model.js';

/** Strings an attacker can put into ALB logs (user agent, URL) or a function name. */
export const SCRIPT_PAYLOAD = '<script>window.__pwned=1</script>';
export const IMG_PAYLOAD = '<img src=x onerror=window.__pwned=1>';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const MIN = 60_000;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * A noisy-neighbour report for 30 minutes, with attacker-controlled strings
 * planted wherever log-derived text reaches the page.
 */
export function noisyNeighbourModel(): ReportModel {
  const minutes = range(30).map((i) => T0 + i * MIN);
  const burst = (i: number) => (i >= 8 && i < 22 ? 1 : 0);
  const victim = `checkout-api${IMG_PAYLOAD}`;
  const url = `https://alb.example.com/api/${SCRIPT_PAYLOAD}`;
  return {
    title: 'throttlescope diagnosis: 502 Bad Gateway behind ALB',
    generatedAt: new Date(T0 + 31 * MIN).toISOString(),
    window: { startMs: T0, endMs: T0 + 30 * MIN },
    rootCause: {
      code: 'account-concurrency-exhausted',
      headline:
        'The account concurrency pool was full: report-exporter held 94% of it while victims were throttled.',
      confidence: 0.93,
      culprit: 'report-exporter',
      victims: [victim, 'orders-api'],
    },
    findings: [
      {
        code: 'account-concurrency-exhausted',
        title: 'Account concurrency exhausted by report-exporter',
        confidence: 0.93,
        evidence: [
          { text: 'ConcurrentExecutions reached 1,000 of 1,000 at 12:08', timeMs: T0 + 8 * MIN },
          { text: `598 × 502 LambdaThrottling, e.g. user agent "${SCRIPT_PAYLOAD}"`, timeMs: T0 + 9 * MIN },
          { text: `request to ${url}` },
        ],
      },
      {
        code: 'function-errors',
        title: 'A few LambdaUnhandled errors (not the main cause)',
        confidence: 0.2,
        evidence: [{ text: '3 × 502 LambdaUnhandled', timeMs: T0 + 15 * MIN }],
      },
    ],
    charts: {
      errorsByReason: {
        minutesMs: minutes,
        series: [
          { reason: 'LambdaThrottling', counts: minutes.map((_, i) => burst(i) * (30 + ((i * 7) % 13))) },
          { reason: 'LambdaUnhandled', counts: minutes.map((_, i) => (i === 15 ? 3 : 0)) },
          { reason: SCRIPT_PAYLOAD, counts: minutes.map((_, i) => (i === 20 ? 1 : 0)) },
        ],
      },
      concurrency: {
        timesMs: minutes,
        accountLimit: 1000,
        series: [
          { function: 'report-exporter', values: minutes.map((_, i) => (burst(i) ? 940 : 40 + i)) },
          { function: victim, values: minutes.map((_, i) => (burst(i) ? 45 : 120)) },
          { function: 'orders-api', values: minutes.map((_, i) => (burst(i) ? 15 : 60)) },
        ],
      },
      probe: {
        urls: [
          {
            url,
            timesMs: minutes,
            successRate: minutes.map((_, i) => (burst(i) ? 0.78 + ((i * 3) % 5) / 100 : i === 25 ? null : 1)),
            episodes: [
              { startMs: T0 + 9 * MIN, endMs: T0 + 9 * MIN + 20_000, failures: 14 },
              { startMs: T0 + 14 * MIN, endMs: T0 + 15 * MIN, failures: 31 },
            ],
          },
          {
            url: 'https://alb.example.com/orders',
            timesMs: minutes,
            successRate: minutes.map((_, i) => (burst(i) ? 0.81 : 1)),
            episodes: [{ startMs: T0 + 18 * MIN, endMs: T0 + 19 * MIN + 30_000, failures: 40 }],
          },
        ],
      },
    },
    evidenceChain: [
      { step: 'Symptom', detail: '19.8% of probe requests failed with 502, in streaks, on both endpoints' },
      {
        step: 'ALB logs',
        detail: `the 502s carry error_reason LambdaThrottling (user agent ${IMG_PAYLOAD})`,
      },
      { step: 'CloudWatch', detail: 'account ConcurrentExecutions at the 1,000 limit during every streak' },
      { step: 'Culprit', detail: 'report-exporter holds 94% of the pool and has no reserved concurrency' },
    ],
    recommendation: {
      function: 'report-exporter',
      reservedConcurrency: 200,
      command:
        'aws lambda put-function-concurrency --function-name report-exporter --reserved-concurrent-executions 200',
      reasoning: 'Caps the runaway function at 200, leaving 800 for the rest (AWS keeps 100 unreserved).',
    },
    verification: {
      before: { rate: 0.198, n: 3000 },
      after: { rate: 0.001, n: 3000 },
      pValue: 1e-12,
      verdict: 'improved',
    },
    gaps: [`no ALB logs for ${url} before 12:00`],
  };
}
