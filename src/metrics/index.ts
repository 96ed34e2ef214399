/**
 * CloudWatch metrics for Lambda and the ALB in front of it, the noisy-neighbour ranking, and the
 * Lambda functions behind the ALB's target groups (Elastic Load Balancing v2).
 * `MetricsReport` is the `metrics --json` document (docs/metrics.md): diagnose, fix and plan read it.
 */
export {
  type AlbMetrics,
  type CollectClients,
  type CollectOptions,
  collectMetrics,
  collectMetricsWithConnection,
  type FunctionMetrics,
  GetMetricDataLimits,
  getMetricSeries,
  type MetricDataCall,
  type MetricQuery,
  type MetricsProgress,
  type MetricsReport,
  planMetricDataCalls,
  validPeriod,
} from './collect.js';
export {
  type NoisyNeighbourRanking,
  POOL_FULL_FRACTION,
  type RankedFunction,
  type RankInput,
  rankNoisyNeighbours,
} from './rank.js';
export { renderMetrics } from './render.js';
export {
  alignDown,
  alignUp,
  emptySeries,
  seriesMap,
  seriesMax,
  seriesSum,
  type TimeSeries,
} from './series.js';
export {
  functionNameOf,
  mapTargetGroupsToFunctions,
  mapTargetGroupsWithConnection,
  parseTargetGroupRef,
  type TargetGroupFunctions,
} from './target-groups.js';
