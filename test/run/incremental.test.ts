import { describe, expect, it } from "vitest";
import type { CatalogSnapshot, CatalogSource, TableEntry } from "../../src/catalog/model.js";
import { configSchema } from "../../src/config/schema.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { runIncremental } from "../../src/run/incremental.js";
import { reconcile } from "../../src/run/reconcile.js";
import { createSnapshotCache } from "../../src/run/snapshot-cache.js";
import { createPgliteExecutor } from "../../src/warehouse/postgres-executor.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";

function start(): CatalogSnapshot {
  return catalog({
    databases: [
      database("sales", { access: "internal" }, [
        table("orders", { access: "public" }, ["id", ["email", { pii: "true" }]]),
        table("customers", {}, ["id", "name"]),
      ]),
      database("hr", { access: "restricted" }, [table("staff", {}, ["id"])]),
    ],
    policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"]), policy(role("bi"), "TABLE", { access: ["internal"] }, ["SELECT"])],
  });
}

describe("runIncremental against a real target (PGlite)", () => {
  it("applies a one-table tag change reading only that table, and leaves what a full run would leave", async () => {
    const executor = await createPgliteExecutor({});
    try {
      const holder = { snapshot: start(), tableReads: 0, policyReads: 0 };
      const find = (db: string, name: string): TableEntry | null => holder.snapshot.databases.find((d) => d.name === db)?.tables.find((t) => t.name === name) ?? null;
      const source: CatalogSource = {
        read: async () => ({ snapshot: holder.snapshot, warnings: [] }),
        resources: {
          readTable: async (db, name) => (holder.tableReads++, find(db, name)),
          readDatabaseTags: async (db) => holder.snapshot.databases.find((d) => d.name === db)?.tags ?? null,
          readPolicies: async () => (holder.policyReads++, { policies: holder.snapshot.policies, expressions: holder.snapshot.expressions, warnings: [] }),
        },
      };
      const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" }, safety: { maxRevokes: 100, maxRevokeRatio: 1 } });
      const grantees = mapEntitlements(resolvePolicies(holder.snapshot), config.mapping, "postgres").grantees;
      await mirrorCatalog(executor, holder.snapshot, grantees, new Set());
      const cache = createSnapshotCache(source);
      const deps = { config, cache, executor, lock: createMemoryLock(), logger: createLogger("silent") };
      expect((await reconcile({ ...deps, source: cache.source })).status).toBe("succeeded");

      // sales.customers becomes public: analyst gains it, bi loses it and with it its last sales table.
      const customers = find("sales", "customers")!;
      holder.snapshot = { ...holder.snapshot, databases: holder.snapshot.databases.map((d) => (d.name !== "sales" ? d : { ...d, tables: d.tables.map((t) => (t === customers ? { ...t, tags: { access: "public" } } : t)) })) };
      const outcome = await runIncremental([{ kind: "table", database: "sales", table: "customers" }], deps);
      expect(outcome.kind).toBe("applied");
      if (outcome.kind !== "applied") return;
      expect(outcome.tables).toBe(1);
      expect((outcome.summary.plan?.changes ?? []).map((c) => `${c.op} ${c.grantee.name} ${c.privilege} ${c.object.schema}.${c.object.table ?? ""}`).sort()).toEqual([
        "grant analyst SELECT sales.customers",
        "revoke bi SELECT sales.customers",
        "revoke bi USAGE sales.",
      ]);
      expect(holder.tableReads).toBe(1);
      // A full plan now finds nothing left to do: the incremental run left what a full run leaves.
      const after = await computePlan({ config, source, executor });
      expect(after.plan.changes).toEqual([]);

      // The same event again: the re-read matches the snapshot, nothing to run.
      expect((await runIncremental([{ kind: "table", database: "sales", table: "customers" }], deps)).kind).toBe("nothing");
      // An UpdateTable that keeps the columns needs no read at all.
      expect((await runIncremental([{ kind: "table", database: "sales", table: "customers", columns: ["id", "name"] }], deps)).kind).toBe("nothing");
      expect(holder.tableReads).toBe(2);
      // A table of a database the snapshot does not know: only a full run can answer.
      expect(await runIncremental([{ kind: "table", database: "new_db", table: "t" }], deps)).toMatchObject({ kind: "full" });
    } finally {
      await executor.close();
    }
  });
});
