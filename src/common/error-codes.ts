/**
 * The error-code registry: every code a ThrottlescopeError can carry, declared once with its exit
 * code and a one-line meaning. Codes and exit codes are a public interface; docs/errors.md lists
 * exactly these (test/common/error-codes.test.ts holds the two together).
 */

/** Exit codes shared by every command (docs/errors.md). */
export const ExitCode = {
  ok: 0,
  /** A bug: an error that is not a ThrottlescopeError. */
  internal: 1,
  /** Bad flags, bad config or scenario file: nothing was attempted. */
  usage: 2,
  /** Input could not be read at all (file, directory, gzip, S3 object, probe dir). */
  input: 3,
  /** A remote service refused or failed (AWS API, lab endpoint). */
  remote: 4,
  /** The local environment failed (port in use, unwritable output, disk full). */
  environment: 5,
  /** The command ran and its verdict is negative (e.g. verify says "worse", probe failures with --fail-on-error). */
  verdict: 6,
  /** Stopped by SIGINT/SIGTERM after writing what it had. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

interface CodeEntry {
  readonly exit: ExitCodeValue;
  readonly meaning: string;
}

export const ERROR_CODES = {
  TS_USAGE: { exit: ExitCode.usage, meaning: 'a flag or value is not valid' },
  TS_CONFIG_INVALID: {
    exit: ExitCode.usage,
    meaning: 'a config or scenario file has problems; all are listed with their field path',
  },
  TS_POOL_INVALID_RESERVATION: {
    exit: ExitCode.usage,
    meaning: 'a reserved concurrency that AWS would refuse',
  },
  TS_LOG_MALFORMED: {
    exit: ExitCode.input,
    meaning: 'an ALB or CloudFront log line does not fit its format',
  },
  TS_LOG_SOURCE: {
    exit: ExitCode.input,
    meaning: 'a log file, directory, gzip or S3 object could not be read',
  },
  TS_LOG_UNREADABLE: {
    exit: ExitCode.input,
    meaning: 'every line of the log sources is malformed: nothing could be read',
  },
  TS_OUTPUT_UNWRITABLE: { exit: ExitCode.environment, meaning: 'an output file cannot be written' },
  TS_NO_EVIDENCE: {
    exit: ExitCode.input,
    meaning: 'diagnose could read none of probe run, logs and CloudWatch',
  },
  TS_AWS_NO_CREDENTIALS: {
    exit: ExitCode.remote,
    meaning: 'the AWS SDK default chain found no credentials',
  },
  TS_AWS_BAD_CREDENTIALS: { exit: ExitCode.remote, meaning: 'AWS rejected the credentials' },
  TS_AWS_ACCESS_DENIED: {
    exit: ExitCode.remote,
    meaning: 'AWS refused an operation; the message names the missing IAM permission',
  },
  TS_AWS_THROTTLED: { exit: ExitCode.remote, meaning: 'an AWS API throttled throttlescope itself' },
  TS_AWS_UNREACHABLE: { exit: ExitCode.remote, meaning: 'the endpoint could not be reached' },
  TS_AWS_NO_REGION: {
    exit: ExitCode.usage,
    meaning: 'no region from the caller, AWS_REGION, AWS_DEFAULT_REGION or the profile',
  },
  TS_AWS_ERROR: { exit: ExitCode.remote, meaning: "any other AWS error, with AWS's name and message" },
  TS_ATHENA_QUERY_FAILED: {
    exit: ExitCode.remote,
    meaning: "Athena ran a query and it failed; the message carries the query id and Athena's reason",
  },
  TS_ATHENA_QUERY_CANCELLED: {
    exit: ExitCode.remote,
    meaning: 'an Athena query was cancelled by someone else (StopQueryExecution, the console, a limit)',
  },
  TS_ATHENA_SCAN_LIMIT: {
    exit: ExitCode.usage,
    meaning: "--max-scan: the logs under the window's partitions exceed it; nothing was queried",
  },
  TS_ATHENA_RESULT: {
    exit: ExitCode.remote,
    meaning: 'an Athena result or table lacks what the query needs (columns, an S3 location)',
  },
  TS_FIX_NO_CULPRIT: { exit: ExitCode.verdict, meaning: 'the diagnosis names no function fix can size' },
  TS_FIX_NO_METRICS: {
    exit: ExitCode.input,
    meaning: 'reserved concurrency cannot be sized without CloudWatch metrics',
  },
  TS_FIX_REFUSED: { exit: ExitCode.remote, meaning: 'AWS refused a reserved-concurrency value' },
  TS_FIX_ROLLBACK_INVALID: { exit: ExitCode.input, meaning: 'the rollback file is not one fix wrote' },
  TS_PLAN_INVALID: { exit: ExitCode.usage, meaning: 'a planner input is out of range' },
  TS_PLAN_INFEASIBLE: {
    exit: ExitCode.usage,
    meaning: 'the reservations needed do not fit in the account limit minus the unreserved minimum',
  },
  TS_PROBE_DIR: { exit: ExitCode.input, meaning: 'a directory is not a readable probe run' },
  TS_PROBE_OUTPUT: { exit: ExitCode.environment, meaning: 'the probe output directory cannot be written' },
  TS_LAB_LISTEN: { exit: ExitCode.environment, meaning: 'the lab cannot listen on the requested port' },
  TS_LAB_SCENARIO_UNREADABLE: { exit: ExitCode.input, meaning: 'the scenario file cannot be read' },
  TS_REPORT_ASSET: {
    exit: ExitCode.environment,
    meaning: 'the bundled Chart.js build is missing or unsafe to inline',
  },
  TS_INTERRUPTED: {
    exit: ExitCode.interrupted,
    meaning: 'stopped by Ctrl-C / SIGTERM after writing what it had',
  },
  TS_INTERNAL: { exit: ExitCode.internal, meaning: 'an internal failure (a bug)' },
} as const satisfies Record<`TS_${string}`, CodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The exit status a code stands for. */
export function exitCodeFor(code: ErrorCode): ExitCodeValue {
  return ERROR_CODES[code].exit;
}
