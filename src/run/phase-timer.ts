/**
 * Times named phases of a run into `timings` (ms, rounded), whether the phase succeeds or throws:
 * the full plan and an incremental run log them, and the bench reads them.
 */
export function phaseTimer(timings: Record<string, number>): <T>(name: string, work: () => Promise<T> | T) => Promise<T> {
  return async (name, work) => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round(performance.now() - start);
    }
  };
}
