/**
 * The one seeded PRNG (xoshiro128**) and the variates drawn from it: the planner's simulator and
 * the probe's Poisson arrivals. Hand-written so runs are reproducible across Node versions
 * (Math.random cannot be seeded) and allocation-free. Not for secrets.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  // Box–Muller yields normals in pairs; keeping the spare halves the trig/log work.
  private spareNormal = 0;
  private hasSpareNormal = false;

  constructor(seed: number) {
    // splitmix32 expands one seed into four well-mixed state words; an all-zero
    // state would make xoshiro emit zeros forever.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const mul5 = Math.imul(s1, 5);
    const result = Math.imul((mul5 << 7) | (mul5 >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** Uniform in [0, 1). */
  nextUnit(): number {
    return this.nextUint32() * 2.3283064365386963e-10;
  }

  /** Uniform in (0, 1): never 0, so -log(u) is always finite. */
  nextOpenUnit(): number {
    return (this.nextUint32() + 0.5) * 2.3283064365386963e-10;
  }

  /** Exponential variate with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(this.nextOpenUnit());
  }

  /** Standard normal variate (Box–Muller). */
  normal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spareNormal;
    }
    const radius = Math.sqrt(-2 * Math.log(this.nextOpenUnit()));
    const angle = 2 * Math.PI * this.nextOpenUnit();
    this.spareNormal = radius * Math.sin(angle);
    this.hasSpareNormal = true;
    return radius * Math.cos(angle);
  }

  /** Lognormal variate parameterised by its median and the sigma of its log. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
}

/** A seeded uniform [0, 1) source as a function (for code that only needs `random()`). */
export function seededRandom(seed: number): () => number {
  const r = new Random(seed);
  return () => r.nextUnit();
}
