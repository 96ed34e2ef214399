/**
 * throttlescope as a library: the same parts the CLI uses. Each part's index lists its surface;
 * nothing here prints or exits.
 */
export * from './common/errors.js';
export { runDemo } from './demo/run.js';
export * as diagnose from './diagnose/index.js';
export { applyChanges, rollbackChanges } from './fix/apply.js';
export { recommendFix } from './fix/recommend.js';
export * as lab from './lab/index.js';
export * as logs from './logs/index.js';
export * as metrics from './metrics/index.js';
export { erlangB, minServersFor, offeredLoad } from './plan/erlang.js';
export { recommendReserved } from './plan/recommend.js';
export { simulate } from './plan/simulate.js';
export * as probe from './probe/index.js';
export { renderHtmlReport } from './report/html.js';
export { compareFailureRates, fisherExact } from './verify/compare.js';
