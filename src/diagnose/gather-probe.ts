import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { traceRootOf } from '../common/trace-id.js';
import { FILES } from '../probe/recorder.js';
import { readProbeDir } from '../probe/report.js';
import type { ProbeEvidence, ProbeFailure } from './evidence.js';

/** Timeline points kept for charts; a long soak is sampled evenly down to this many. */
const MAX_TIMELINE = 20_000;

/**
 * Reads a recorded probe run (`probe --out DIR`): its summary (rebuilt the way `probe report`
 * does) plus every failure with its trace root, for the join with the ALB logs.
 */
export async function gatherProbeEvidence(dir: string): Promise<ProbeEvidence> {
  const report = await readProbeDir(dir);
  const s = report.summary;
  const failures: ProbeFailure[] = [];
  const timeline: { url: string; timeMs: number; ok: boolean }[] = [];
  const every = Math.max(1, Math.ceil(s.total / MAX_TIMELINE));
  let n = 0;
  const lines = createInterface({
    input: createReadStream(join(dir, FILES.requests)),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line) continue;
    let r: {
      seq?: number;
      url?: string;
      sent?: number;
      status?: number | null;
      ok?: boolean;
      error?: string | null;
      origin?: string | null;
      traceId?: string;
    };
    try {
      r = JSON.parse(line);
    } catch {
      continue; // a torn last line of an interrupted run; readProbeDir counted it
    }
    if (typeof r.sent !== 'number' || typeof r.url !== 'string') continue;
    if (n++ % every === 0) timeline.push({ url: r.url, timeMs: r.sent, ok: r.ok === true });
    if (r.ok === false) {
      failures.push({
        seq: r.seq ?? 0,
        url: r.url,
        timeMs: r.sent,
        status: r.status ?? null,
        errorClass: r.error ?? null,
        origin: r.origin ?? null,
        traceRoot: traceRootOf(r.traceId) ?? null,
      });
    }
  }
  return {
    dir,
    total: s.total,
    failed: s.failed,
    urls: s.urls.map((u) => ({
      url: u.url,
      total: u.total,
      failed: u.failed,
      episodes: u.episodes.map((e) => ({
        startMs: Date.parse(e.start),
        endMs: Date.parse(e.end),
        failures: e.failures,
      })),
    })),
    failures,
    timeline,
    runsTest: { z: s.runsTest.z, p: s.runsTest.p, clustered: s.runsTest.clustered },
  };
}
