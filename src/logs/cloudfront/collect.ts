import { CloudFrontObjectReader, type CloudFrontReadStats, emptyCloudFrontReadStats } from './reader.js';
import {
  CloudFrontAggregator,
  type CloudFrontAggregatorState,
  type CloudFrontFilter,
  type CloudFrontSummary,
} from './summary.js';

/** One reader's CloudFront counts, structured-clone-able (worker threads send it back). */
export interface CloudFrontPart {
  state: CloudFrontAggregatorState;
  stats: CloudFrontReadStats;
}

/**
 * What `logs` keeps of the CloudFront objects it meets while reading: counts for the summary and
 * malformed-line examples (`file:line: field ...`), handed to the shared `examples` list.
 */
export class CloudFrontCollector {
  readonly stats = emptyCloudFrontReadStats();
  private readonly aggregator: CloudFrontAggregator;

  constructor(
    filter: CloudFrontFilter,
    private readonly window: { sinceMs?: number | undefined; untilMs?: number | undefined },
    private readonly example: (message: string) => void,
  ) {
    this.aggregator = new CloudFrontAggregator(filter);
  }

  /** The `ReadOptions.cloudfront` hook: a reader per object. */
  readonly reader = {
    open: (source: string) =>
      new CloudFrontObjectReader(
        source,
        {
          fields: (f) => {
            this.aggregator.add(f);
          },
          malformed: (error, ref) => this.example(`${ref.source}:${ref.line}: ${error.message}`),
        },
        this.stats,
        this.window.sinceMs,
        this.window.untilMs,
      ),
  };

  part(): CloudFrontPart {
    return { state: this.aggregator.state(), stats: { ...this.stats } };
  }

  merge(part: CloudFrontPart): void {
    this.aggregator.merge(part.state);
    this.stats.files += part.stats.files;
    this.stats.lines += part.stats.lines;
    this.stats.malformed += part.stats.malformed;
    this.stats.outsideWindow += part.stats.outsideWindow;
  }

  /** The summary, or undefined when no CloudFront object was read. */
  summary(): CloudFrontSummary | undefined {
    if (this.stats.files === 0) return undefined;
    return this.aggregator.summary(this.stats);
  }
}
