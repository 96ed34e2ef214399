export {
  type AggregatorState,
  LogAggregator,
  type LogFilter,
  type LogSummary,
  parseStatusFilter,
  targetGroupDimension,
} from './aggregate.js';
export { type AnalyseOptions, analyseAlbLogs, type LogAnalysis } from './analyse.js';
export { ERROR_REASONS, type ErrorReason, errorReason, explainErrorReason } from './error-reasons.js';
export { ALB_FIELDS, type AlbField, MIN_FIELD_COUNT } from './fields.js';
export { formatAlbLine } from './format-line.js';
export { AlbParseError, parseAlbLine } from './parse-line.js';
export { type AlbLogRecord, albRecord, requestLineParts } from './record.js';
export { albLogKey, parseAlbLogKey } from './s3-key.js';
export { type ReadOptions, type ReadStats, readAlbLogs } from './sources.js';
