import type { Logger } from "../log.js";
import type { RunQueue } from "./run-queue.js";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `90s`, `15m`, `1h` (config scheduleSchema) -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) throw new RangeError(`not a duration: ${text}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
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
  if (intervalMs < 1000) throw new RangeError(`schedule.every must be at least 1s, got ${every}`);
  const tick = () => {
    const outcome = queue.enqueue("schedule");
    logger.debug({ outcome }, "scheduled run requested");
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  logger.info({ every }, "in-process schedule started");
  return { stop: () => clearInterval(timer) };
}
