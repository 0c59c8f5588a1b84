import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogSnapshot, CatalogSource } from "../../src/catalog/model.js";
import { configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { reconcile } from "../../src/run/reconcile.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { failureOf } from "../support/failure.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { openRedshift, SYNC_OWNS_SALES_ORDERS, SYNC_SECRET, type RedshiftTarget } from "../warehouse/redshift-target.js";

/**
 * A database user that is neither a superuser nor holds ACCESS SYSTEM TABLE sees in the SVV_*
 * privilege views only the identities it is or belongs to (aws-facts §6.4, trap 11). A plan made from
 * that view is wrong: a grant it made looks gone, so the run forgets its state row and the privilege
 * stays forever. Every plan on Redshift is refused then (TARGET_PERMISSION), not only those with SQL.
 */
let target: RedshiftTarget;
let sync: SqlExecutor;
const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" }, safety: { maxRevokes: 10, maxRevokeRatio: 1 } });
const holder: { snapshot: CatalogSnapshot } = { snapshot: withPolicy(true) };
const source: CatalogSource = { read: async () => ({ snapshot: holder.snapshot, warnings: [] }) };

function withPolicy(on: boolean): CatalogSnapshot {
  return catalog({
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id"])])],
    policies: [policy(role("analyst"), "TABLE", { access: [on ? "public" : "private"] }, ["SELECT"])],
  });
}

beforeAll(async () => {
  target = await openRedshift();
  await target.setup([
    ...SYNC_OWNS_SALES_ORDERS,
    "GRANT CREATE ON DATABASE postgres TO sync",
    "GRANT ACCESS SYSTEM TABLE TO sync",
  ]);
  sync = target.executorAs(SYNC_SECRET);
});
afterAll(async () => {
  await sync?.close();
  await target?.close();
});

const relationGrants = (): Promise<unknown> =>
  target.executor.query("SELECT identity_name, privilege_type FROM svv_relation_privileges WHERE namespace_name = 'sales' AND relation_name = 'orders'");

describe("Redshift: a plan needs the whole picture of who holds what", () => {
  it("refuses plan and apply as a user that cannot see other identities' grants, instead of forgetting a grant it made", async () => {
    const lock = createMemoryLock();
    try {
      const first = await reconcile({ config, source, executor: sync, lock, logger: createLogger("silent") });
      expect(first.error).toBeNull();
      expect(await relationGrants()).toEqual([{ identity_name: "analyst", privilege_type: "SELECT" }]);

      await target.setup(["REVOKE ACCESS SYSTEM TABLE FROM sync"]);
      holder.snapshot = withPolicy(false);
      const planError = await failureOf(computePlan({ config, source, executor: sync }));
      expect(planError).toMatchObject({ code: "TARGET_PERMISSION", message: expect.stringMatching(/ACCESS SYSTEM TABLE/) });
      const second = await reconcile({ config, source, executor: sync, lock, logger: createLogger("silent") });
      expect(second.error?.code).toBe("TARGET_PERMISSION");

      // Once it can see again, the revoke happens: the grant was never forgotten.
      await target.setup(["GRANT ACCESS SYSTEM TABLE TO sync"]);
      const third = await reconcile({ config, source, executor: sync, lock, logger: createLogger("silent") });
      expect(third.error).toBeNull();
      expect(third.result?.appliedChanges.revokes).toBeGreaterThan(0);
      expect(await relationGrants()).toEqual([]);
    } finally {
      await lock.close();
    }
  });
});
