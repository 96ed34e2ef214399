export {
  type AlbMetrics,
  type CollectOptions,
  collectMetrics,
  type FunctionMetrics,
  GetMetricDataLimits,
  getMetricSeries,
  type MetricsReport,
} from './collect.js';
export { type NoisyNeighbourRanking, type RankedFunction, rankNoisyNeighbours } from './rank.js';
