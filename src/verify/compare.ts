import { twoProportionZTest } from '../common/stats.js';

export interface FailureCount {
  /** What was counted, for the sentence ("probe failures", "502 rate"). */
  label: string;
  failures: number;
  total: number;
}

export type Verdict = 'improved' | 'no-change' | 'worse';

export interface Comparison {
  before: { failures: number; total: number; rate: number };
  after: { failures: number; total: number; rate: number };
  test: 'fisher-exact' | 'two-proportion-z';
  pValue: number;
  verdict: Verdict;
  improved: boolean;
  sentence: string;
}

/** log(n!) by summation, cached: exact for the counts a probe run produces. */
const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++)
    logFactorials[i] = (logFactorials[i - 1] as number) + Math.log(i);
  return logFactorials[n] as number;
}

/**
 * Two-sided Fisher exact test on the 2x2 table [[a, b], [c, d]]: the probability, under equal
 * rates, of a table at least as unlikely as this one. Used when counts are small.
 */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  const r1 = a + b;
  const r2 = c + d;
  const c1 = a + c;
  const n = r1 + r2;
  const logP = (x: number) =>
    logFactorial(r1) +
    logFactorial(r2) +
    logFactorial(c1) +
    logFactorial(n - c1) -
    logFactorial(n) -
    logFactorial(x) -
    logFactorial(r1 - x) -
    logFactorial(c1 - x) -
    logFactorial(r2 - c1 + x);
  const observed = logP(a);
  let p = 0;
  const lo = Math.max(0, c1 - r2);
  const hi = Math.min(r1, c1);
  for (let x = lo; x <= hi; x++) {
    const lp = logP(x);
    if (lp <= observed + 1e-7) p += Math.exp(lp);
  }
  return Math.min(1, p);
}

const pctText = (r: number) => `${(100 * r).toFixed(r < 0.01 && r > 0 ? 2 : 1)}%`;
const pText = (p: number) =>
  p < 1e-9 ? 'p < 1e-9' : p < 0.001 ? `p = ${p.toExponential(1)}` : `p = ${p.toFixed(3)}`;

/**
 * Compares failure rates before and after a change. Fisher's exact test when any expected cell is
 * small (it is exact where the normal approximation is not), else the two-proportion z test.
 * A change is a verdict only when p < alpha; otherwise "no change".
 */
export function compareFailureRates(before: FailureCount, after: FailureCount, alpha = 0.01): Comparison {
  const rb = before.total === 0 ? 0 : before.failures / before.total;
  const ra = after.total === 0 ? 0 : after.failures / after.total;
  const n = before.total + after.total;
  const pooled = n === 0 ? 0 : (before.failures + after.failures) / n;
  const minExpected = Math.min(
    before.total * pooled,
    before.total * (1 - pooled),
    after.total * pooled,
    after.total * (1 - pooled),
  );
  let test: Comparison['test'];
  let pValue: number;
  if (before.total === 0 || after.total === 0) {
    test = 'fisher-exact';
    pValue = 1;
  } else if (minExpected < 5) {
    test = 'fisher-exact';
    pValue = fisherExact(
      before.failures,
      before.total - before.failures,
      after.failures,
      after.total - after.failures,
    );
  } else {
    test = 'two-proportion-z';
    pValue = twoProportionZTest(before.failures, before.total, after.failures, after.total).p;
  }
  const verdict: Verdict =
    pValue < alpha ? (ra < rb ? 'improved' : ra > rb ? 'worse' : 'no-change') : 'no-change';
  const sentence = `${before.label} ${pctText(rb)} (n=${before.total.toLocaleString('en-US')}) -> ${pctText(ra)} (n=${after.total.toLocaleString('en-US')}), ${pText(pValue)}: ${
    verdict === 'improved' ? 'improved' : verdict === 'worse' ? 'worse' : 'no significant change'
  }`;
  return {
    before: { failures: before.failures, total: before.total, rate: rb },
    after: { failures: after.failures, total: after.total, rate: ra },
    test,
    pValue,
    verdict,
    improved: verdict === 'improved',
    sentence,
  };
}
