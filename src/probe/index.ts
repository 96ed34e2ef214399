/**
 * The probe: find and record intermittent failures of one or more URLs.
 * `runProbe(options, { signal, onProgress })` runs; `readProbeDir(dir)` rebuilds a recorded run's
 * summary; `summarize(urls, records)` is the pure summary.
 */
export {
  classifyOrigin,
  classifyTransportError,
  ERROR_CLASSES,
  type ErrorClass,
  ORIGINS,
  type Origin,
  originAdvice,
} from './classify.js';
export {
  type Arrivals,
  type ArrivalsInput,
  type LoadModel,
  type ProbeOptions,
  type ProbeOptionsInput,
  parseExpect,
  parseProbeOptions,
  parseRate,
  type StatusRange,
} from './options.js';
export type { ProbeRecord } from './record.js';
export { FILES, OutputError } from './recorder.js';
export { jsonDocument, progressLines, renderSummary } from './render.js';
export { ProbeDirError, type ProbeReport, readProbeDir } from './report.js';
export {
  type ProbeHooks,
  type ProbeProgress,
  type ProbeResult,
  type RunInfo,
  runProbe,
  type StopReason,
  type UrlProgress,
} from './runner.js';
export { type EpisodeJson, type ProbeSummary, summarize } from './summary.js';
