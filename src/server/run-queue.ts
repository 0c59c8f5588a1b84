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
  const machine = new QueueMachine(options);
  return {
    enqueue: (reason) => machine.enqueue(reason),
    depth: () => machine.depth(),
    idle: () => machine.idle(),
    shutdown: () => machine.shutdown(),
  };
}

/**
 * The queue's states: idle; a window open (`waiting`); a run in progress (`running`), possibly with
 * the next window open; stopping. Every transition ends in `depthChanged` and `settleIdle`.
 */
class QueueMachine {
  #waiting: Waiting | null = null;
  #running: Promise<void> | null = null;
  #stopping = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];
  readonly #options: RunQueueOptions;

  constructor(options: RunQueueOptions) {
    this.#options = options;
  }

  enqueue(reason: TriggerReason): EnqueueOutcome {
    if (this.#stopping) return "stopping";
    if (this.#waiting !== null) {
      this.#waiting.reasons.add(reason);
      if (reason === "webhook") this.#waiting.events++;
      return "coalesced";
    }
    const entry: Waiting = {
      reasons: new Set([reason]),
      events: reason === "webhook" ? 1 : 0,
      windowOver: false,
      timer: setTimeout(() => {
        entry.windowOver = true;
        this.#startIfDue();
      }, this.#options.debounceMs),
    };
    this.#waiting = entry;
    this.#depthChanged();
    return "queued";
  }

  depth(): { readonly waiting: number; readonly running: number } {
    return { waiting: this.#waiting === null ? 0 : 1, running: this.#running === null ? 0 : 1 };
  }

  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#settleIdle();
    });
  }

  async shutdown(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retryTimer);
    if (this.#waiting !== null) {
      clearTimeout(this.#waiting.timer);
      this.#waiting = null;
      this.#depthChanged();
    }
    await this.#running;
    clearTimeout(this.#retryTimer);
    this.#settleIdle();
  }

  #depthChanged(): void {
    const { waiting, running } = this.depth();
    this.#options.onDepthChange?.(waiting, running);
  }

  #settleIdle(): void {
    if (this.#running !== null || this.#waiting !== null) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The waiting run starts when its window is over and nothing runs. */
  #startIfDue(): void {
    const waiting = this.#waiting;
    if (this.#running !== null || waiting === null || !waiting.windowOver || this.#stopping) return;
    const trigger: RunTrigger = { reasons: [...waiting.reasons], events: waiting.events, shouldStop: () => this.#stopping };
    this.#waiting = null;
    this.#running = this.#execute(trigger).finally(() => {
      this.#running = null;
      this.#depthChanged();
      this.#startIfDue();
      this.#settleIdle();
    });
    this.#depthChanged();
  }

  /** One run; a run that found the lease held asks again after retryBusyAfterMs. */
  async #execute(trigger: RunTrigger): Promise<void> {
    const { logger, run, onRunEnd, retryBusyAfterMs } = this.#options;
    logger.info({ reasons: trigger.reasons, events: trigger.events }, "run starting");
    try {
      const summary = await run(trigger);
      onRunEnd?.(summary);
      if (summary.status === "busy" && !this.#stopping && this.#retryTimer === undefined) {
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.enqueue("retry");
        }, retryBusyAfterMs);
      }
    } catch (crashed) {
      logger.error({ err: crashed }, "run crashed");
      onRunEnd?.({ crashed });
    }
  }
}
