/**
 * Lambda concurrency rules we reproduce (lab) and model (plan). Change a rule here and both follow.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
 * https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
 */
export const LambdaLimits = {
  /** Default per-region account concurrency quota. */
  defaultAccountConcurrency: 1000,
  /** Lambda always keeps this much of the account limit unreserved (at the default limit of 1000). */
  defaultUnreservedMinimum: 100,
  /** Each function can add this many execution environments ... */
  scalingIncrement: 1000,
  /** ... every this many milliseconds. */
  scalingIntervalMs: 10_000,
} as const;

/**
 * `Reason` of the Invoke API's TooManyRequestsException (HTTP 429).
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
export const ThrottleReason = {
  account: 'ConcurrentInvocationLimitExceeded',
  reserved: 'ReservedFunctionConcurrentInvocationLimitExceeded',
  scaling: 'FunctionInvocationRateLimitExceeded',
} as const;
export type ThrottleCause = keyof typeof ThrottleReason;

/** The unreserved minimum scaled with a scenario's smaller account limit (100 of 1000). */
export function scaledUnreservedMinimum(accountLimit: number): number {
  return Math.max(
    1,
    Math.round(
      (accountLimit * LambdaLimits.defaultUnreservedMinimum) / LambdaLimits.defaultAccountConcurrency,
    ),
  );
}
