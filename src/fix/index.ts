/**
 * @module fix
 * Reserved-concurrency changes from a diagnosis (sized with the planner), applied only when asked
 * (dry run otherwise) with a rollback file written first; their --json document and rendering.
 */
export { type ApplyResult, applyChanges, type RollbackFile, rollbackChanges } from './apply.js';
export {
  type ConcurrencyChange,
  type FixOptions,
  type FixPlan,
  recommendFix,
  unreservedMinimumFor,
} from './recommend.js';
export { fixJson, renderFix, renderRollback } from './render.js';
