/**
 * `throttlescope probe report <DIR>`: rebuilds the summary of a recorded run from its --out
 * directory (run.json + requests.jsonl), streaming, with the same builder the live run used, so
 * the result is the same summary. Lines that cannot be read (a run killed mid-write leaves a torn
 * last line) are skipped and counted.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describeCause, ThrottlescopeError } from '../common/errors.js';
import { ERROR_CLASSES, ORIGINS } from './classify.js';
import type { ProbeRecord } from './record.js';
import { FILES } from './recorder.js';
import type { RunInfo } from './runner.js';
import { type ProbeSummary, SummaryBuilder } from './summary.js';

export interface ProbeReport {
  summary: ProbeSummary;
  run: RunInfo;
  records: number;
  /** Lines that were not valid records; the first few line numbers are in `skippedAt`. */
  skippedLines: number;
  skippedAt: number[];
}

export class ProbeDirError extends ThrottlescopeError {
  constructor(message: string, cause?: unknown) {
    super('TS_PROBE_DIR', message, { cause });
    this.name = 'ProbeDirError';
  }
}

const ERRORS = new Set<string>(ERROR_CLASSES);
const ORIGIN_SET = new Set<string>(ORIGINS);

/** A parsed line if it has the fields the summary needs, else undefined. */
export function asRecord(value: unknown, urlCount: number): ProbeRecord | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const r = value as Record<string, unknown>;
  const num = (k: string) => typeof r[k] === 'number' && Number.isFinite(r[k]);
  if (!num('seq') || !Number.isInteger(r.seq) || (r.seq as number) < 1) return undefined;
  if (!num('urlIndex') || !Number.isInteger(r.urlIndex) || (r.urlIndex as number) < 0) return undefined;
  if ((r.urlIndex as number) >= urlCount) return undefined;
  if (!num('sent') || !num('latencyMs') || !num('serviceMs') || !num('intended')) return undefined;
  if (typeof r.ok !== 'boolean') return undefined;
  if (!(r.status === null || num('status'))) return undefined;
  if (!(r.error === null || (typeof r.error === 'string' && ERRORS.has(r.error)))) return undefined;
  if (!(r.origin === null || (typeof r.origin === 'string' && ORIGIN_SET.has(r.origin)))) return undefined;
  return value as ProbeRecord;
}

export async function readProbeDir(dir: string): Promise<ProbeReport> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory())
      throw new ProbeDirError(`${dir}: not a directory (expected a probe --out directory)`);
  } catch (error) {
    if (error instanceof ProbeDirError) throw error;
    throw new ProbeDirError(`${dir}: cannot open: ${describeCause(error)}`, error);
  }
  const runPath = join(dir, FILES.run);
  let run: RunInfo;
  try {
    run = JSON.parse(await readFile(runPath, 'utf8')) as RunInfo;
  } catch (error) {
    throw new ProbeDirError(
      `${runPath}: cannot read (${describeCause(error)}); is ${dir} a probe --out directory?`,
      error,
    );
  }
  if (!run || !Array.isArray(run.urls) || run.urls.some((u) => typeof u !== 'string')) {
    throw new ProbeDirError(`${runPath}: not a throttlescope probe run file (no "urls" list)`);
  }
  const builder = new SummaryBuilder(run.urls);
  const path = join(dir, FILES.requests);
  let records = 0;
  let skippedLines = 0;
  const skippedAt: number[] = [];
  let lineNo = 0;
  try {
    const lines = createInterface({
      input: createReadStream(path, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    });
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let rec: ProbeRecord | undefined;
      try {
        rec = asRecord(JSON.parse(line), run.urls.length);
      } catch {
        rec = undefined;
      }
      if (!rec) {
        skippedLines++;
        if (skippedAt.length < 10) skippedAt.push(lineNo);
        continue;
      }
      records++;
      builder.add(rec);
    }
  } catch (error) {
    throw new ProbeDirError(`${path}: cannot read: ${describeCause(error)}`, error);
  }
  builder.finish();
  return { summary: builder.summary(), run, records, skippedLines, skippedAt };
}
