import { parentPort, workerData } from 'node:worker_threads';
import { LogAggregator, type LogFilter } from './aggregate.js';
import { readAlbLogs } from './sources.js';

/** One worker of a parallel scan: aggregates its share of the files, posts the mergeable state. */
interface Job {
  files: string[];
  filter: LogFilter;
  sinceMs?: number;
  untilMs?: number;
  maxExamples: number;
}

const job = workerData as Job;
const aggregator = new LogAggregator(job.filter);
const examples: string[] = [];
const stats = await readAlbLogs(
  job.files,
  {
    record: (r) => {
      aggregator.add(r);
    },
    malformed: (error, ref) => {
      if (examples.length < job.maxExamples) examples.push(`${ref.source}:${ref.line}: ${error.message}`);
    },
  },
  { sinceMs: job.sinceMs, untilMs: job.untilMs },
);
parentPort?.postMessage({ state: aggregator.state(), stats, examples });
