import { describe, expect, it } from "vitest";
import { configSchema, type Config } from "../../src/config/schema.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { createLogger } from "../../src/log.js";
import type { Lease, RunLock } from "../../src/lock/lock.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile } from "../../src/run/reconcile.js";
import { createPgliteExecutor } from "../../src/warehouse/postgres-executor.js";
import { listRuns } from "../../src/warehouse/state-store.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";

/** Issue 13 item 10: the target itself refuses a batch of a lease holder older than the last one that wrote. */

/** A lock that hands out the given fencing token, as a DynamoDB lease taken over by a newer holder would. */
function lockWithToken(token: number): RunLock {
  return {
    acquire: (_key, owner): Promise<Lease> =>
      Promise.resolve({ fencingToken: token, owner, isHeld: () => true, assertHeld: () => undefined, release: () => Promise.resolve() }),
    close: () => Promise.resolve(),
  };
}

const snapshotWith = (tables: readonly string[]) =>
  catalog({
    databases: [database("sales", { access: "public" }, tables.map((name) => table(name, {}, ["id"])))],
    expressions: {},
    policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
  });

describe("fencing on PGlite", () => {
  it("fails a stale holder's batch on the target and records why; the memory lock does not fence", async () => {
    const executor = await createPgliteExecutor({});
    try {
      const parsed = configSchema.parse({ source: { kind: "file", path: "unused" }, target: { kind: "pglite" }, safety: { maxRevokes: 10, maxRevokeRatio: 1 } });
      const fenced: Config = { ...parsed, lock: { kind: "dynamodb", table: "locks", region: "us-east-1", leaseSeconds: 120 } };
      const first = snapshotWith(["orders"]);
      const second = snapshotWith(["orders", "lines"]);
      await mirrorCatalog(executor, second, mapEntitlements(resolvePolicies(second), parsed.mapping, "postgres").grantees, new Set());
      const run = (snapshot: typeof first, config: Config, lock: RunLock) =>
        reconcile({ config, source: { read: async () => ({ snapshot, warnings: [] }) }, executor, lock, logger: createLogger("silent") });

      expect((await run(first, fenced, lockWithToken(5))).status).toBe("succeeded");
      const stale = await run(second, fenced, lockWithToken(4));
      expect(stale.status).toBe("failed");
      expect(stale.error).toMatchObject({ code: "LEASE_LOST", message: expect.stringContaining("fencing token 5") });
      expect(await executor.query("SELECT has_table_privilege('analyst', 'sales.lines', 'SELECT') AS granted")).toEqual([{ granted: false }]);
      expect((await listRuns(executor, "lfsync", 1))[0]).toMatchObject({ status: "failed", errorCode: "LEASE_LOST", fencingToken: 4 });

      // The newer holder goes on; the memory lock (tokens restart with the process) is not fenced.
      expect((await run(second, fenced, lockWithToken(6))).status).toBe("succeeded");
      expect((await run(snapshotWith(["lines"]), parsed, lockWithToken(1))).status).toBe("succeeded");
    } finally {
      await executor.close();
    }
  });
});
