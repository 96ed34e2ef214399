import type { Distribution } from '../scenario.js';

/** z such that P(Z <= z) = 0.99 for a standard normal. */
const Z99 = 2.3263478740408408;

/** Uniform (0, 1], never 0 (safe for logarithms). */
export type Random = () => number;
export const defaultRandom: Random = () => 1 - Math.random();

/** A standard normal sample (Box-Muller). */
function normal(random: Random): number {
  return Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
}

/** Returns a sampler of durations in milliseconds (lab time) for a scenario distribution. */
export function durationSampler(d: Distribution, random: Random = defaultRandom): () => number {
  switch (d.kind) {
    case 'fixed': {
      const v = d.value;
      return () => v;
    }
    case 'uniform': {
      const { min, max } = d;
      return () => min + (max - min) * (1 - random());
    }
    case 'exponential': {
      const mean = d.mean;
      return () => -mean * Math.log(random());
    }
    case 'lognormal': {
      const mu = Math.log(d.median);
      const sigma = d.p99 > d.median ? Math.log(d.p99 / d.median) / Z99 : 0;
      return () => Math.exp(mu + sigma * normal(random));
    }
  }
}

/** Mean of a distribution, in milliseconds (for docs and sizing). */
export function distributionMean(d: Distribution): number {
  switch (d.kind) {
    case 'fixed':
      return d.value;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'exponential':
      return d.mean;
    case 'lognormal': {
      const sigma = d.p99 > d.median ? Math.log(d.p99 / d.median) / Z99 : 0;
      return d.median * Math.exp((sigma * sigma) / 2);
    }
  }
}
