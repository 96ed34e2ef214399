/** Small, exact statistics shared by probe, verify and plan. Pure functions. */

/** Complementary error function (W. J. Cody's rational approximations via erfcx; |rel err| < 1.2e-7). */
export function erfc(x: number): number {
  // Numerical Recipes erfcc: Chebyshev fit, fractional error < 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Two-sided p-value of a standard normal statistic; keeps precision far into the tail. */
export function twoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/** Wilson score interval for a proportion (95% by default). */
export function wilsonInterval(
  successes: number,
  n: number,
  z = 1.959963984540054,
): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Pooled two-proportion z-test of x1/n1 vs x2/n2. z > 0 when the first proportion is larger. */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): { z: number; p: number } {
  if (n1 === 0 || n2 === 0) return { z: 0, p: 1 };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, p: 1 };
  const z = (p1 - p2) / se;
  return { z, p: twoSidedP(z) };
}

/**
 * Wald–Wolfowitz runs test on a sequence of booleans (failure = true). Fewer runs than expected
 * means failures cluster in streaks. Returns z (negative = clustered) and the two-sided p.
 */
export function runsTest(sequence: ArrayLike<boolean>): {
  runs: number;
  expected: number;
  z: number;
  p: number;
} {
  let n1 = 0;
  let runs = 0;
  const n = sequence.length;
  for (let i = 0; i < n; i++) {
    if (sequence[i]) n1++;
    if (i === 0 || sequence[i] !== sequence[i - 1]) runs++;
  }
  const n2 = n - n1;
  if (n1 === 0 || n2 === 0) return { runs, expected: runs, z: 0, p: 1 };
  const expected = (2 * n1 * n2) / n + 1;
  const variance = (2 * n1 * n2 * (2 * n1 * n2 - n)) / (n * n * (n - 1));
  if (variance <= 0) return { runs, expected, z: 0, p: 1 };
  const z = (runs - expected) / Math.sqrt(variance);
  return { runs, expected, z, p: twoSidedP(z) };
}
