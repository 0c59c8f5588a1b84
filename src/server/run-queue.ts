import type { Logger } from "../log.js";
import type { RunSummary } from "../run/reconcile.js";

/** `retry`: the previous run found the lease held by another process, whose plan may predate the change. */
export type TriggerReason = "webhook" | "schedule" | "retry";

/** What a run is told: why it runs, and a flag that turns true on shutdown (stop before the next batch). */
export interface RunTrigger {
  readonly reasons: readonly TriggerReason[];
  /** How many accepted events this run answers (0 for a schedule tick). */
  readonly events: number;
  readonly shouldStop: () => boolean;
}

export type EnqueueOutcome = "queued" | "coalesced" | "stopping";

export interface RunQueueOptions {
  /** One full, level-triggered run; must not throw (reconcile() never does), but a throw is contained. */
  readonly run: (trigger: RunTrigger) => Promise<RunSummary>;
  readonly debounceMs: number;
  /** After a run that found the lease held ("busy"), ask again this much later. */
  readonly retryBusyAfterMs: number;
  readonly logger: Logger;
  readonly onRunEnd?: (outcome: RunSummary | { readonly crashed: unknown }) => void;
  readonly onDepthChange?: (waiting: number, running: number) => void;
}

export interface RunQueue {
  /** Asks for a run soon. Never waits for it. */
  enqueue(reason: TriggerReason): EnqueueOutcome;
  /** Runs waiting to start (0 or 1) and running (0 or 1). */
  depth(): { readonly waiting: number; readonly running: number };
  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void>;
  /** No new runs; the waiting one is dropped; the running one is told to stop before its next batch. Resolves when it ended. */
  shutdown(): Promise<void>;
}

interface Waiting {
  readonly reasons: Set<TriggerReason>;
  events: number;
  windowOver: boolean;
  readonly timer: NodeJS.Timeout;
}

/**
 * Events only say "run soon" (level-triggered reconcile): a burst becomes one run. The first
 * request opens a debounce window that later ones join without extending it, so a steady stream
 * of events cannot postpone the run forever. At most one run is in progress and one waits; a
 * request while a run is in progress opens the next window, and that run starts when both the
 * window and the running run are over.
 */
export function createRunQueue(options: RunQueueOptions): RunQueue {
  let waiting: Waiting | null = null;
  let running: Promise<void> | null = null;
  let stopping = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let idleWaiters: (() => void)[] = [];

  const depthChanged = () => options.onDepthChange?.(waiting === null ? 0 : 1, running === null ? 0 : 1);
  const settleIdle = () => {
    if (running !== null || waiting !== null) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const startIfDue = () => {
    if (running !== null || waiting === null || !waiting.windowOver || stopping) return;
    const trigger: RunTrigger = { reasons: [...waiting.reasons], events: waiting.events, shouldStop: () => stopping };
    waiting = null;
    running = execute(trigger).finally(() => {
      running = null;
      depthChanged();
      startIfDue();
      settleIdle();
    });
    depthChanged();
  };

  const execute = async (trigger: RunTrigger): Promise<void> => {
    options.logger.info({ reasons: trigger.reasons, events: trigger.events }, "run starting");
    try {
      const summary = await options.run(trigger);
      options.onRunEnd?.(summary);
      if (summary.status === "busy" && !stopping && retryTimer === undefined) {
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          queue.enqueue("retry");
        }, options.retryBusyAfterMs);
      }
    } catch (crashed) {
      options.logger.error({ err: crashed }, "run crashed");
      options.onRunEnd?.({ crashed });
    }
  };

  const queue: RunQueue = {
    enqueue(reason) {
      if (stopping) return "stopping";
      if (waiting !== null) {
        waiting.reasons.add(reason);
        if (reason === "webhook") waiting.events++;
        return "coalesced";
      }
      const entry: Waiting = {
        reasons: new Set([reason]),
        events: reason === "webhook" ? 1 : 0,
        windowOver: false,
        timer: setTimeout(() => {
          entry.windowOver = true;
          startIfDue();
        }, options.debounceMs),
      };
      waiting = entry;
      depthChanged();
      return "queued";
    },
    depth: () => ({ waiting: waiting === null ? 0 : 1, running: running === null ? 0 : 1 }),
    idle() {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
    async shutdown() {
      stopping = true;
      clearTimeout(retryTimer);
      if (waiting !== null) {
        clearTimeout(waiting.timer);
        waiting = null;
        depthChanged();
      }
      await running;
      clearTimeout(retryTimer);
      settleIdle();
    },
  };
  return queue;
}
