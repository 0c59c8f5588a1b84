import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { reconcile } from "../../src/run/reconcile.js";
import { targetKey } from "../../src/run/wiring.js";
import { listRuns, recordRunStart } from "../../src/warehouse/state-store.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { targetBackends } from "../support/targets.js";

/**
 * Stale `running` rows (issue 13 item 4): a process killed mid-run leaves its row `running`. The next
 * run that takes the lease marks every such row of a lower fencing token, or older than the lease
 * TTL, `failed` with INTERRUPTED, in the transaction that writes its own row; a recent row of a
 * higher token (another holder, as far as this run can tell) is left alone.
 */
const snapshot = catalog({
  databases: [database("rl", { access: "public" }, [table("orders", {}, ["id"])])],
  policies: [policy(role("rl_team"), "TABLE", { access: ["public"] }, ["SELECT"])],
});
const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" }, safety: { maxRevokes: 10, maxRevokeRatio: 1 } });
const backends = targetBackends().filter((b) => b.name !== "PGlite");

describe.each(backends)("the run log against $name", (backend) => {
  it("marks the runs a killed process left running as failed (INTERRUPTED) when the next run takes the lease", async () => {
    const executor = await backend.open();
    try {
      const lock = createMemoryLock();
      const run = () => reconcile({ config, source: { read: async () => ({ snapshot, warnings: [] }) }, executor, lock, logger: createLogger("silent") });
      const first = await run();
      expect(first.status).toBe("succeeded");
      const ago = (ms: number) => new Date(Date.now() - ms);
      // What killed processes leave: token 2 (taken, then the process died), and a row an hour old.
      const burnt = await lock.acquire(targetKey(config), "killed");
      await burnt.release();
      await recordRunStart(executor, config.stateSchema, { runId: "killed", command: "reconcile", startedAt: ago(5_000), fencingToken: burnt.fencingToken });
      await recordRunStart(executor, config.stateSchema, { runId: "ancient", command: "webhook", startedAt: ago(3_600_000), fencingToken: 50 });
      // A recent row of a higher token: not provably dead (the memory lock's tokens restart with the process).
      await recordRunStart(executor, config.stateSchema, { runId: "other", command: "reconcile", startedAt: ago(1_000), fencingToken: 99 });

      const second = await run();
      expect(second.status).toBe("succeeded");
      expect(second.fencingToken).toBeGreaterThan(burnt.fencingToken);
      const runs = new Map((await listRuns(executor, config.stateSchema, 10)).map((r) => [r.runId, r]));
      for (const id of ["killed", "ancient"]) {
        expect(runs.get(id)).toMatchObject({ status: "failed", errorCode: "INTERRUPTED" });
        expect(runs.get(id)?.message).toContain(`found by run ${second.runId}`);
        expect(runs.get(id)?.finishedAt).not.toBeNull();
      }
      expect(runs.get("other")).toMatchObject({ status: "running", errorCode: null, finishedAt: null });
      expect(runs.get(first.runId)?.status).toBe("succeeded");
      expect(runs.get(second.runId)).toMatchObject({ status: "succeeded", errorCode: null });
    } finally {
      await executor.close();
    }
  });
});
