import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RunSummary } from "../run/reconcile.js";

export type WebhookOutcome = "accepted" | "duplicate" | "ignored" | "invalid" | "unauthorized" | "refused";

export interface ServerMetrics {
  readonly registry: Registry;
  readonly webhookEvents: Counter<"outcome">;
  /** Event handling by kind: ignored (nothing to do), incremental, full (issue 11). */
  readonly eventRuns: Counter<"kind">;
  recordRun(outcome: RunSummary | { readonly crashed: unknown }): void;
  setQueueDepth(waiting: number, running: number): void;
}

/** The counters the server exports, each with the label values it reports from the start (0). */
const COUNTERS = {
  changesApplied: {
    name: "lfsync_changes_applied_total",
    help: "GRANT and REVOKE changes committed to the target, by op",
    labelNames: ["op"],
    zero: [{ op: "grant" }, { op: "revoke" }],
  },
  runFailures: { name: "lfsync_run_failures_total", help: "Runs that did not succeed, by error code", labelNames: ["code"], zero: [] },
  unrecorded: {
    name: "lfsync_runs_unrecorded_total",
    help: "Runs the run log could not take (an untrusted or unmigrated state schema, a failed write), by error code; GET /runs lists them until a restart",
    labelNames: ["code"],
    zero: [],
  },
  webhookEvents: { name: "lfsync_webhook_events_total", help: "Webhook requests by outcome", labelNames: ["outcome"], zero: [] },
  eventRuns: {
    name: "lfsync_runs_by_kind_total",
    help: "Events that needed no run (ignored), incremental runs, and full runs (scheduled or event-triggered)",
    labelNames: ["kind"],
    zero: [{ kind: "ignored" }, { kind: "incremental" }, { kind: "full" }],
  },
} as const;

const GAUGES = {
  lastSuccess: { name: "lfsync_last_success_timestamp_seconds", help: "Unix time of the last successful run (0: none since start)" },
  queueDepth: { name: "lfsync_run_queue_depth", help: "Runs waiting to start (at most 1)" },
  runsInProgress: { name: "lfsync_runs_in_progress", help: "Runs in progress in this process (at most 1)" },
} as const;

const RUN_DURATION = {
  name: "lfsync_run_duration_seconds",
  help: "Duration of reconcile runs started by the server, by outcome",
  labelNames: ["status"],
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
};

/** One registry per app (not prom-client's global one), so several apps can live in one process. */
export function createServerMetrics(now: () => Date): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const runDuration = new Histogram({ ...RUN_DURATION, registers });
  const counter = (key: keyof typeof COUNTERS): Counter => {
    const { zero, labelNames, ...definition } = COUNTERS[key];
    const made = new Counter({ ...definition, labelNames: [...labelNames], registers });
    for (const labels of zero) made.inc(labels, 0);
    return made;
  };
  const gauge = (key: keyof typeof GAUGES): Gauge => new Gauge({ ...GAUGES[key], registers });
  // In the order /metrics has always listed them.
  const [changesApplied, runFailures, unrecorded] = [counter("changesApplied"), counter("runFailures"), counter("unrecorded")];
  const lastSuccess = gauge("lastSuccess");
  const [webhookEvents, eventRuns] = [counter("webhookEvents"), counter("eventRuns")];
  const [queueDepth, runsInProgress] = [gauge("queueDepth"), gauge("runsInProgress")];
  lastSuccess.set(0);

  return {
    registry,
    webhookEvents,
    eventRuns,
    recordRun(outcome) {
      if ("crashed" in outcome) {
        runFailures.inc({ code: "INTERNAL" });
        return;
      }
      runDuration.observe({ status: outcome.status }, outcome.durationMs / 1000);
      changesApplied.inc({ op: "grant" }, outcome.result?.appliedChanges.grants ?? 0);
      changesApplied.inc({ op: "revoke" }, outcome.result?.appliedChanges.revokes ?? 0);
      if (outcome.status === "succeeded") lastSuccess.set(now().getTime() / 1000);
      else runFailures.inc({ code: outcome.error?.code ?? outcome.status.toUpperCase() });
      if (outcome.unrecorded !== undefined) unrecorded.inc({ code: outcome.error?.code ?? outcome.status.toUpperCase() });
    },
    setQueueDepth(waiting, running) {
      queueDepth.set(waiting);
      runsInProgress.set(running);
    },
  };
}
