import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { RunStatus, RunSummary } from "../../src/run/reconcile.js";
import { createRunQueue, type RunTrigger } from "../../src/server/run-queue.js";
import { sleep } from "./harness.js";

/** A run that lasts until the test finishes it. */
function controlledRuns() {
  const started: RunTrigger[] = [];
  const finishers: ((status: RunStatus) => void)[] = [];
  const run = (trigger: RunTrigger) =>
    new Promise<RunSummary>((resolve) => {
      started.push(trigger);
      finishers.push((status) => resolve({ runId: `r${started.length}`, status, plan: null, result: null, error: null, fencingToken: 1, durationMs: 1 }));
    });
  return { started, run, finish: (i: number, status: RunStatus = "succeeded") => finishers[i]!(status) };
}

const logger = createLogger("silent");

describe("run queue", () => {
  it("coalesces requests within the debounce window into one run", async () => {
    const runs = controlledRuns();
    const queue = createRunQueue({ run: runs.run, debounceMs: 40, retryBusyAfterMs: 1000, logger });
    expect(queue.enqueue("webhook")).toBe("queued");
    expect(queue.enqueue("webhook")).toBe("coalesced");
    expect(queue.enqueue("schedule")).toBe("coalesced");
    expect(runs.started).toHaveLength(0);
    await sleep(80);
    expect(runs.started).toHaveLength(1);
    expect(runs.started[0]).toMatchObject({ reasons: ["webhook", "schedule"], events: 2 });
    runs.finish(0);
    await queue.idle();
  });

  it("keeps at most one run in progress and one waiting", async () => {
    const runs = controlledRuns();
    const depths: string[] = [];
    const queue = createRunQueue({ run: runs.run, debounceMs: 0, retryBusyAfterMs: 1000, logger, onDepthChange: (w, r) => depths.push(`${w}/${r}`) });
    queue.enqueue("webhook");
    await sleep(10);
    expect(queue.depth()).toEqual({ waiting: 0, running: 1 });
    for (let i = 0; i < 10; i++) queue.enqueue("webhook");
    await sleep(10);
    // The window is over but the first run still runs: the second waits.
    expect(queue.depth()).toEqual({ waiting: 1, running: 1 });
    expect(runs.started).toHaveLength(1);
    runs.finish(0);
    await sleep(10);
    expect(runs.started).toHaveLength(2);
    expect(runs.started[1]!.events).toBe(10);
    runs.finish(1);
    await queue.idle();
    expect(runs.started).toHaveLength(2);
    expect(depths.at(-1)).toBe("0/0");
  });

  it("on shutdown drops the waiting run, tells the running one to stop, and waits for it", async () => {
    const runs = controlledRuns();
    const queue = createRunQueue({ run: runs.run, debounceMs: 0, retryBusyAfterMs: 1000, logger });
    queue.enqueue("webhook");
    await sleep(10);
    queue.enqueue("webhook");
    expect(runs.started[0]!.shouldStop()).toBe(false);
    let stopped = false;
    const shutdown = queue.shutdown().then(() => (stopped = true));
    expect(runs.started[0]!.shouldStop()).toBe(true);
    expect(queue.enqueue("webhook")).toBe("stopping");
    await sleep(20);
    expect(stopped).toBe(false);
    runs.finish(0);
    await shutdown;
    expect(runs.started).toHaveLength(1);
  });

  it("asks again later when the lease was held by another process", async () => {
    const runs = controlledRuns();
    const queue = createRunQueue({ run: runs.run, debounceMs: 0, retryBusyAfterMs: 30, logger });
    queue.enqueue("webhook");
    await sleep(10);
    runs.finish(0, "busy");
    await sleep(60);
    expect(runs.started).toHaveLength(2);
    expect(runs.started[1]!.reasons).toEqual(["retry"]);
    runs.finish(1, "busy");
    // Shutdown cancels the pending retry.
    await queue.shutdown();
    await sleep(60);
    expect(runs.started).toHaveLength(2);
  });

  it("contains a run that throws and keeps serving", async () => {
    const outcomes: unknown[] = [];
    let calls = 0;
    const queue = createRunQueue({
      run: async () => {
        calls++;
        throw new Error("boom");
      },
      debounceMs: 0,
      retryBusyAfterMs: 1000,
      logger,
      onRunEnd: (o) => outcomes.push(o),
    });
    queue.enqueue("webhook");
    await sleep(10);
    await queue.idle();
    queue.enqueue("webhook");
    await sleep(10);
    await queue.idle();
    expect(calls).toBe(2);
    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toHaveProperty("crashed");
  });
});
