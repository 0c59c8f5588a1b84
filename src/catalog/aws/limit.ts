/** How many calls may be in flight now (`current`, read before each call) and at most (`max`). */
export interface ConcurrencyLimit {
  readonly current: number;
  readonly max: number;
}

/**
 * `fn` over every item with at most `limit` calls in flight, results in item order. A
 * ConcurrencyLimit may change while the map runs (adaptive concurrency): a call starts only while
 * fewer than its `current` calls are running. After the first failure no new call starts; the calls
 * already running settle before the failure is thrown, so nothing of an abandoned read is still
 * talking to AWS when the caller sees the error.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number | ConcurrencyLimit,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const bound: ConcurrencyLimit = typeof limit === "number" ? { current: limit, max: limit } : limit;
  const results = new Array<R>(items.length);
  let next = 0;
  let inFlight = 0;
  let waiting: (() => void)[] = [];
  let failure: { error: unknown } | undefined;
  const hasWork = () => failure === undefined && next < items.length;
  const release = () => {
    inFlight--;
    const wake = waiting;
    waiting = [];
    for (const resume of wake) resume();
  };
  const worker = async (): Promise<void> => {
    while (hasWork()) {
      while (inFlight >= Math.max(1, bound.current)) await new Promise<void>((resume) => waiting.push(resume));
      if (!hasWork()) return;
      const index = next++;
      inFlight++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      } finally {
        release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(bound.max, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
