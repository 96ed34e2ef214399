/**
 * throttlescope as a library: the same parts the CLI uses, one namespace per part (each also a
 * subpath export: `throttlescope/logs`, `throttlescope/plan`, ...; see docs/library.md). Nothing
 * here prints, exits or writes process.env.
 */
export * as common from './common/index.js';
export {
  ConfigError,
  ERROR_CODES,
  type ErrorCode,
  ExitCode,
  InvalidOptionError,
  isThrottlescopeError,
  ThrottlescopeError,
  UsageError,
} from './common/index.js';
export * as demo from './demo/index.js';
export * as diagnose from './diagnose/index.js';
export * as fix from './fix/index.js';
export * as lab from './lab/index.js';
export * as logs from './logs/index.js';
export * as metrics from './metrics/index.js';
export * as plan from './plan/index.js';
export * as probe from './probe/index.js';
export * as report from './report/index.js';
export * as verify from './verify/index.js';
