import { setFlagsFromString } from 'node:v8';

/**
 * Turns V8's allocation-site pretenuring off for this process, for a process that serves the
 * lab. Why: with it on, V8 sometimes decides, from one unlucky young-generation collection, that a
 * per-request allocation site makes long-lived objects and allocates them in the old generation
 * from then on; dead there, they keep the young objects they point to alive. About one lab run in
 * three falls at random into that mode, where a third of
 * what the main thread allocates outlives young-generation collections (every request's HTTP
 * objects, promoted and then collected by full collections): 280-400 MB promoted in a 4 s run
 * instead of 8-10, six times the scavenge time, and 15-25% fewer requests served. With it off, no
 * run fell into that mode (0 of 20 runs; 11 of 37 with it on). Measured in docs/performance.md (lab
 * CloudFront edge, session 8). Process-wide, so it is the caller's choice (the `lab` and `demo`
 * commands and the lab's benchmarks make it), made before the lab starts serving.
 */
export function disableAllocationSitePretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
