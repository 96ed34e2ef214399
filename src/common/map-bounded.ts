/**
 * Calls `fn` on each item with at most `limit` calls in flight, and returns the results in item
 * order: the one fan-out of the library (S3 downloads, per-function AWS calls).
 *
 * Once a call fails or `signal` aborts, no further item starts. The promise settles only after
 * every started call has settled, so nothing keeps running (or counting) behind the caller's back:
 * it rejects with the first failure, or with the signal's reason when items were left unstarted.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined && !signal?.aborted) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  // A limit that is not a positive number still makes progress, one item at a time.
  const width = Math.min(limit >= 1 ? Math.floor(limit) : 1, items.length);
  await Promise.all(Array.from({ length: width }, worker));
  if (failure !== undefined) throw failure.error;
  if (next < items.length) throw signal?.reason ?? new Error('mapBounded: stopped before every item started');
  return results;
}
