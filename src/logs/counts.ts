/**
 * Merging count tables, for the log summaries (ALB and CloudFront) whose workers each count a share
 * of the files and hand back plain state to be added together.
 */

/** Adds every count of `from` to `into`. */
export function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const k in from) into[k] = (into[k] ?? 0) + (from[k] as number);
}

/** The keys of `B` that hold count tables. */
type CountTableKey<B> = { [P in keyof B]: B[P] extends Record<string, number> ? P : never }[keyof B];

/**
 * Adds buckets (a request count and count tables, such as one minute's) into `into`: a key already
 * there has its counts added; a new one is copied, `requests` first and then `tables` in order, so
 * the copy's keys come out in the order a bucket counted in place has.
 */
export function mergeBuckets<K, B extends { requests: number }>(
  into: Map<K, B>,
  from: Iterable<readonly [K, B]>,
  tables: readonly CountTableKey<B>[],
): void {
  for (const [k, v] of from) {
    const b = into.get(k);
    if (b) {
      b.requests += v.requests;
      for (const t of tables) addCounts(b[t] as Record<string, number>, v[t] as Record<string, number>);
    } else {
      const copy = { requests: v.requests } as B;
      for (const t of tables) copy[t] = { ...(v[t] as Record<string, number>) } as B[typeof t];
      into.set(k, copy);
    }
  }
}
