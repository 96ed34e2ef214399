import { parentPort, workerData } from 'node:worker_threads';
import { type ParallelJob, readClaimedFiles } from './analyse.js';

/** One reader thread of a parallel scan: claims files until none is left, posting each file's counts. */
await readClaimedFiles(workerData as ParallelJob, (result) => parentPort?.postMessage(result));
