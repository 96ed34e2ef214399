/**
 * What the log benches share to make and describe their data: a fixed linear congruential
 * generator (kept, not the project's xoshiro, so the cached .bench-data files and the figures in
 * docs/performance.md stay the ones generated before), and the machine line printed first.
 */
import { cpus, totalmem } from 'node:os';

/** Uniform [0, 1) numbers from `seed`, the same sequence every run. */
export function benchLcg(seed: number): () => number {
  let rnd = seed;
  return () => {
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    return rnd / 0x7fffffff;
  };
}

/** Cores, CPU model, memory and Node version, as the log benches report them. */
export function machineLine(): string {
  return `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}
