/**
 * @module common
 * What every part shares and a caller may need: typed errors and their code registry, the AWS
 * connection, time and duration parsing, clocks and the seeded generator.
 */
export { type AwsConnection, credentialSourcesPresent } from './aws.js';
export { type Clock, scaledClock, VirtualClock, wallClock } from './clock.js';
export { ERROR_CODES, type ErrorCode, exitCodeFor } from './error-codes.js';
export {
  ConfigError,
  describeCause,
  ExitCode,
  type ExitCodeValue,
  InvalidOptionError,
  isThrottlescopeError,
  ThrottlescopeError,
  type ThrottlescopeErrorOptions,
  UsageError,
} from './errors.js';
export { Random, seededRandom } from './random.js';
export { safeForTerminal } from './terminal.js';
export { durationMs, isoUtc, parseDuration, parseTimeBound } from './time.js';
