import type { Config } from "../config/schema.js";
import { describeError } from "../errors.js";
import type { Logger } from "../log.js";
import type { EventReads, ResourceRead } from "../server/event-reads.js";
import type { RunTrigger } from "../server/run-queue.js";
import { type IncrementalDeps, runIncremental } from "./incremental.js";
import type { RunSummary } from "./reconcile.js";

/** How a queued run was answered: counted separately on /metrics (issue 11). */
export type RunKind = "ignored" | "incremental" | "full";

export interface EventRunner {
  /** Remembers what an accepted event names, for the run the queue starts next. */
  note(reads: Exclude<EventReads, { kind: "ignore" }>): void;
  /** The queue's run: a schedule tick runs in full; events run incrementally when they can. */
  run(trigger: RunTrigger): Promise<RunSummary>;
}

export interface EventRunnerDeps extends Omit<IncrementalDeps, "shouldStop"> {
  readonly config: Config;
  readonly logger: Logger;
  /** One full, level-triggered run (reconcile), unchanged. */
  readonly runFull: (trigger: RunTrigger) => Promise<RunSummary>;
  readonly onRun?: (kind: RunKind) => void;
  /** Waits (tests pass a fake); resolves early never matters, it is polled. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const POLL_MS = 200;

export function createEventRunner(deps: EventRunnerDeps): EventRunner {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let reads: ResourceRead[] = [];
  let fullReason: string | null = null;
  /** Start of the last full run an event asked for (scheduled runs do not delay events). */
  let lastFullStart: number | null = null;

  const full = async (trigger: RunTrigger, eventTriggered: boolean, reason: string): Promise<RunSummary> => {
    if (eventTriggered && lastFullStart !== null) {
      const due = lastFullStart + deps.config.incremental.minFullRunIntervalSeconds * 1000;
      // A storm of events becomes at most one full run per interval; later events join the next one.
      while (now().getTime() < due && !trigger.shouldStop()) await sleep(Math.min(POLL_MS, due - now().getTime()));
    }
    deps.logger.info({ reason }, "full run");
    if (eventTriggered) lastFullStart = now().getTime();
    deps.onRun?.("full");
    return deps.runFull(trigger);
  };

  return {
    note(event) {
      if (event.kind === "full") fullReason ??= event.reason;
      else reads.push(...event.reads);
    },
    async run(trigger) {
      const taken = reads;
      const takenFull = fullReason;
      reads = [];
      fullReason = null;
      if (trigger.reasons.includes("schedule")) return full(trigger, false, "schedule");
      if (!deps.config.incremental.enabled) return full(trigger, true, "incremental runs are disabled");
      if (takenFull !== null) return full(trigger, true, takenFull);
      if (taken.length === 0) return full(trigger, true, `a ${trigger.reasons.join("+")} run with no event to follow`);
      const started = performance.now();
      const outcome = await runIncremental(taken, { ...deps, shouldStop: trigger.shouldStop }).catch((error: unknown) => ({
        kind: "full" as const,
        reason: `the incremental run failed: ${describeError(error)}`,
      }));
      if (outcome.kind === "full") {
        deps.logger.info({ reason: outcome.reason }, "incremental run handed over to a full run");
        return full(trigger, true, outcome.reason);
      }
      if (outcome.kind === "nothing") {
        deps.onRun?.("ignored");
        deps.logger.info({ reason: outcome.reason }, "event needed no change");
        return { runId: "", status: "succeeded", plan: null, result: null, error: null, fencingToken: null, durationMs: Math.round(performance.now() - started) };
      }
      deps.onRun?.("incremental");
      return outcome.summary;
    },
  };
}
