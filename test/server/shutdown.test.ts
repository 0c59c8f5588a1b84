import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { reconcile } from "../../src/run/reconcile.js";
import { readInventory, targetKey } from "../../src/run/wiring.js";
import type { Grant } from "../../src/core/grants.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { readRecordedGrants } from "../../src/warehouse/state-store.js";
import type { PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { cloudTrailEvent, expectedAccess, type Harness, heldAccess, openTestDatabase, phaseTwo, postEvent, startHarness, waitFor } from "./harness.js";
import { group } from "../support/catalog-builders.js";

/** One line per grantee x privilege x table or column, so table-level and column-level grants compare. */
function lines(grants: readonly Grant[]): string[] {
  return grants
    .filter((g) => g.grantee.kind === "group")
    .flatMap((g) => {
      const base = `${g.grantee.name} ${g.privilege} ${g.object.schema}${g.object.table === null ? "" : `.${g.object.table}`}`;
      return g.object.columns === null ? [base] : g.object.columns.map((c) => `${base}.${c}`);
    })
    .sort();
}

async function recordedAndHeld(executor: SqlExecutor, stateSchema: string): Promise<{ recorded: string[]; held: string[] }> {
  const recorded = await readRecordedGrants(executor, stateSchema);
  const inventory = await readInventory(executor, { grantees: [group("analyst"), group("engineer")], excludeSchemas: [stateSchema] });
  return { recorded: lines(recorded), held: lines(inventory.held) };
}

describe("graceful shutdown", () => {
  let db: PostgresExecutor;
  let h: Harness;
  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await h.close();
    await db.close();
  });

  it("lets the running batch finish, starts no other, releases the lease, and leaves no half-recorded batch", async () => {
    h = await startHarness({ executor: db, debounceMs: 0 });
    await postEvent(h.url, cloudTrailEvent("GrantPermissions", { id: "first" }));
    await waitFor(() => h.runs.length === 1);
    expect(h.runs[0]!.status).toBe("succeeded");

    h.holder.snapshot = phaseTwo();
    h.faults.batchDelayMs = 300;
    const batchesBefore = h.faults.batchesStarted;
    await postEvent(h.url, cloudTrailEvent("GrantPermissions", { id: "second" }));
    await waitFor(() => h.faults.batchesStarted >= batchesBefore + 2);
    // An event that arrives now waits for the running run: shutdown must drop it.
    await postEvent(h.url, cloudTrailEvent("GrantPermissions", { id: "third" }));
    expect(h.app.runQueue.depth()).toEqual({ waiting: 1, running: 1 });

    await h.app.close();
    expect(h.runs).toHaveLength(2);
    const stopped = h.runs[1]!;
    expect(stopped.status).toBe("failed");
    expect(stopped.error?.message).toMatch(/stopped before batch \d+\b.*\(shutdown\)/);
    const outcomes = stopped.result!.batches;
    const applied = outcomes.filter((b) => b === "applied").length;
    expect(applied).toBe(2);
    expect(outcomes.length).toBeGreaterThan(applied + 1);

    // Mid-way: neither phase is complete, yet what is recorded is exactly what is held.
    const access = await heldAccess(h.executor);
    expect(access).not.toEqual(expectedAccess(1));
    expect(access).not.toEqual(expectedAccess(2));
    const { recorded, held } = await recordedAndHeld(h.executor, h.config.stateSchema);
    expect(recorded).toEqual(held);
    const run = await h.executor.query(`SELECT status, batches_applied, batches_total FROM lfsync.runs WHERE run_id = '${stopped.runId}'`);
    expect(run).toEqual([{ status: "failed", batches_applied: String(applied), batches_total: String(outcomes.length) }]);

    // The lease is free: the next run (here, after a restart) takes it and converges.
    const lease = await h.lock.acquire(targetKey(h.config), "probe");
    await lease.release();
    const source = { read: async () => ({ snapshot: h.holder.snapshot, warnings: [] }) };
    const next = await reconcile({ config: h.config, source, executor: h.executor, lock: h.lock, logger: createLogger("silent") });
    expect(next.status).toBe("succeeded");
    expect(await heldAccess(h.executor)).toEqual(expectedAccess(2));
  });
});
