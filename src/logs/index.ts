export {
  type AggregatorState,
  LogAggregator,
  type LogFilter,
  type LogSummary,
  parseStatusFilter,
  targetGroupDimension,
} from './aggregate.js';
export { type AnalyseOptions, analyseAlbLogs, type LogAnalysis, type MalformedExample } from './analyse.js';
export * from './cloudfront/index.js';
export {
  CloudFrontAggregator,
  type CloudFrontFilter,
  type CloudFrontMinute,
  type CloudFrontSummary,
} from './cloudfront/summary.js';
export { ERROR_REASONS, type ErrorReason, errorReason, explainErrorReason } from './error-reasons.js';
export { ALB_FIELDS, type AlbField, MIN_FIELD_COUNT } from './fields.js';
export { formatAlbLine } from './format-line.js';
export {
  albFormat,
  cloudFrontFormat,
  formatOf,
  type LogFormat,
  type LogFormatName,
  type LogLineSink,
  type LogWindow,
} from './formats.js';
export type {
  LineReaderOptions,
  LineRef,
  LogFieldVisitor,
  LogVisitor,
} from './line-reader.js';
export { AlbParseError, parseAlbLine } from './parse-line.js';
export { type AlbLogRecord, albRecord, requestLineParts } from './record.js';
export { renderLogAnalysis } from './render.js';
export { albLogKey, parseAlbLogKey } from './s3-key.js';
export {
  type AwsOptions,
  LocalLogSource,
  type LogObject,
  type LogSource,
  type LogSourceOptions,
  logSourceFor,
  type OpenedLog,
  parseS3Url,
  type S3LogObject,
  S3LogSource,
  StdinLogSource,
} from './sources/index.js';
export {
  emptyReadStats,
  type ReadOptions,
  type ReadProgress,
  type ReadStats,
  readAlbLogFields,
  readAlbLogs,
  readLogSources,
  type SourceError,
  type SourceReadOptions,
} from './sources.js';
