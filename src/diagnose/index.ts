export type { Evidence, LogEvidence, MetricsEvidence, ProbeEvidence } from './evidence.js';
export { diagnosisJson, renderDiagnosis } from './render.js';
export { buildReportModel } from './report-model.js';
export { type Diagnosis, diagnose, type Finding, ROOT_CAUSES, type RootCauseCode } from './rules.js';
export { type DiagnoseOptions, type DiagnoseProgress, type DiagnoseResult, runDiagnosis } from './run.js';
