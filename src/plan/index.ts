/**
 * @module plan
 * The queueing model of Lambda concurrency: Erlang B, a discrete-event simulation of a whole
 * account, reserved-concurrency recommendations, and the documents and renderings of
 * `throttlescope plan` (docs/plan.md).
 */
export {
  applyReservations,
  type PredictionDocument,
  type RecommendationDocument,
  type RecommendationDocumentFunction,
  type RecommendFromMetricsOptions,
  type RecommendOptionsBase,
  recommendFromMetrics,
  recommendFromScenario,
  type ScenarioModelOptions,
  type SimulateScenarioOptions,
  type SimulationDocument,
  type SimulationDocumentFunction,
  scenarioCulprit,
  simulateScenario,
} from './documents.js';
export { type ErlangAnswer, erlangB, minServersFor, offeredLoad, solveErlang } from './erlang.js';
export {
  type MetricsHistory,
  type MetricsPlan,
  type MetricsPlanOptions,
  planFromMetrics,
  unreservedMinimumFor,
} from './from-metrics.js';
export {
  planFromScenario,
  type ScenarioPlan,
  type ScenarioPlanOptions,
  simulationFromPlan,
} from './from-scenario.js';
export {
  type FunctionRecommendation,
  type PlanInput,
  type PlannedFunction,
  type PredictionMethod,
  type Recommendation,
  type RecommendOptions,
  recommendReserved,
} from './recommend.js';
export { renderErlang, renderRecommendation, renderSimulation } from './render.js';
export {
  type ArrivalModel,
  type DurationModel,
  type SimulatedFunction,
  type SimulatedFunctionResult,
  type SimulationInput,
  type SimulationResult,
  simulate,
} from './simulate.js';
