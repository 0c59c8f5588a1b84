import { durationMs, MAX_TIMER_MS } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { RunQueue } from "./run-queue.js";

/** `90s`, `15m`, `1h` (config scheduleSchema) -> milliseconds. */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (Number.isNaN(ms)) throw new RangeError(`not a duration: ${text}`);
  return ms;
}

export interface Schedule {
  stop(): void;
}

/**
 * The in-process schedule for deployments without ECS: enqueues a run like an event does, so a tick
 * during a burst joins the waiting run. The first tick is at start: a restarted server converges
 * without waiting a whole interval.
 */
export function startSchedule(every: string, queue: Pick<RunQueue, "enqueue">, logger: Logger): Schedule {
  const intervalMs = parseDuration(every);
  // The config refuses these already (scheduleSchema); a caller that skipped it must not get a tight loop.
  if (intervalMs < 1000 || intervalMs > MAX_TIMER_MS) throw new RangeError(`schedule.every must be between 1s and ${MAX_TIMER_MS} ms, got ${every}`);
  const tick = () => {
    const outcome = queue.enqueue("schedule");
    logger.debug({ outcome }, "scheduled run requested");
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  logger.info({ every }, "in-process schedule started");
  return { stop: () => clearInterval(timer) };
}
