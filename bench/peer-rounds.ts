/**
 * Timing peers side by side, for the log benches: each tool is a shell command, timed with GNU
 * time for its peak RSS; rounds interleave the tools, so that a busy moment of a shared machine
 * hits all of them, and each tool's median is reported with its ratio to the first tool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface PeerTool {
  name: string;
  shell: string;
}

export interface PeerRun {
  name: string;
  seconds: number;
  peakMb: number;
  ok: boolean;
  note: string;
}

const GNU_TIME = '/usr/bin/time';

/** Runs one shell command: wall seconds, and peak RSS when GNU time is there. */
export function timed(name: string, shell: string): PeerRun {
  const useTime = existsSync(GNU_TIME);
  const cmd = useTime ? [GNU_TIME, '-f', '%e %M', 'bash', '-c', shell] : ['bash', '-c', shell];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0] as string, cmd.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let peakMb = Number.NaN;
  if (useTime) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    const [, kb] = last.split(' ');
    peakMb = Number(kb) / 1024;
  }
  return {
    name,
    seconds: wall,
    peakMb,
    ok: r.status === 0,
    note: r.status === 0 ? '' : r.stderr.slice(-300),
  };
}

/** `rounds` interleaved rounds of every tool; per tool the median time, the largest peak, every round. */
export function interleavedRounds(tools: readonly PeerTool[], rounds: number): PeerRun[] {
  const all = new Map<string, PeerRun[]>(tools.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const t of tools) all.get(t.name)?.push(timed(t.name, t.shell));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return tools.map((t) => {
    const rs = all.get(t.name) as PeerRun[];
    const failed = rs.find((r) => !r.ok);
    return {
      name: t.name,
      seconds: median(rs.map((r) => r.seconds)),
      peakMb: Math.max(...rs.map((r) => r.peakMb)),
      ok: failed === undefined,
      note: failed?.note ?? rs.map((r) => r.seconds.toFixed(2)).join(' '),
    };
  });
}

/** The table: seconds, peak MB, lines/s and how much faster the first tool is than each other. */
export function printRuns(runs: readonly PeerRun[], lines: number, rounds: number): void {
  const ours = runs[0] as PeerRun;
  console.log(`\nmedian of ${rounds} interleaved rounds (BENCH_LOG_ROUNDS)`);
  console.log('tool                          seconds   peak MB   lines/s       ours is         rounds');
  for (const r of runs) {
    const ratio = r === ours ? '' : `${(r.seconds / ours.seconds).toFixed(2)}x faster`;
    console.log(
      `${r.name.padEnd(28)} ${r.seconds.toFixed(2).padStart(8)} ${r.peakMb.toFixed(0).padStart(9)} ${Math.round(
        lines / r.seconds,
      )
        .toLocaleString('en-US')
        .padStart(11)}   ${r.ok ? ratio.padEnd(14) : `FAILED ${r.note}`}  ${r.ok ? r.note : ''}`,
    );
  }
}
