import { describe, expect, it } from "vitest";
import type { CatalogSnapshot, CatalogSource } from "../../src/catalog/model.js";
import { configSchema, type Config } from "../../src/config/schema.js";
import type { Grantee } from "../../src/core/grants.js";
import { granteeSql } from "../../src/core/render.js";
import { qualifiedName, quoteIdent } from "../../src/core/sql.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { planJsonText, planText } from "../../src/core/plan-report.js";
import { computeAccess } from "../../src/run/access.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile } from "../../src/run/reconcile.js";
import { readInventory } from "../../src/run/wiring.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { targetBackends } from "../support/targets.js";

/**
 * Brownfield adoption (issue 12): a warehouse full of hand-made grants moves from `recorded` to
 * `adopt` to `authoritative` with no access gap and no surprise revoke, then a policy change revokes
 * an adopted grant like any grant the service made.
 */
const analyst: Grantee = { kind: "group", name: "brown_analyst" };

function snapshot(withPolicy = true): CatalogSnapshot {
  return catalog({
    databases: [database("brown", { access: "public" }, [table("orders", {}, ["id", "amount"]), table("secrets", { access: "secret" }, ["id", "ssn"])])],
    policies: withPolicy ? [policy(role("brown_analyst"), "TABLE", { access: ["public"] }, ["SELECT"])] : [policy(role("someone_else"), "TABLE", { access: ["none"] }, ["SELECT"])],
  });
}

function configWith(mode: "recorded" | "adopt" | "authoritative"): Config {
  return configSchema.parse({
    source: { kind: "file", path: "unused.yaml" },
    target: { kind: "pglite" },
    safety: { maxRevokes: 100, maxRevokeRatio: 1 },
    ownership: mode === "recorded" ? [] : [{ grantees: ["brown_*"], mode }],
  });
}

/** What the warehouse holds for the analyst, read back through the inventory. */
async function held(executor: SqlExecutor): Promise<string[]> {
  const inventory = await readInventory(executor, { grantees: [analyst], excludeSchemas: ["lfsync"] });
  return inventory.held
    .filter((g) => g.grantee.kind === analyst.kind && g.grantee.name === analyst.name)
    .map((g) => `${g.privilege} ${g.object.schema}${g.object.table === null ? "" : `.${g.object.table}`}${g.object.columns === null ? "" : `(${g.object.columns.join(",")})`}`)
    .sort();
}

describe.each(targetBackends())("brownfield adoption against $name", (backend) => {
  it("recorded -> adopt -> authoritative: no gap, no surprise revoke; adopted grants are revoked later like owned ones", async () => {
    const executor = await backend.open();
    try {
      const holder = { snapshot: snapshot() };
      const source: CatalogSource = { read: async () => ({ snapshot: holder.snapshot, warnings: [] }) };
      const run = (mode: "recorded" | "adopt" | "authoritative") => ({ config: configWith(mode), source, executor, lock: createMemoryLock(), logger: createLogger("silent") });
      await mirrorCatalog(executor, holder.snapshot, [analyst], new Set());
      const to = granteeSql(analyst, executor.dialect);
      await executor.transaction([
        `GRANT USAGE ON SCHEMA ${quoteIdent("brown")} TO ${to}`,
        `GRANT SELECT ON ${qualifiedName("brown", "orders")} TO ${to}`,
        `GRANT SELECT ON ${qualifiedName("brown", "secrets")} TO ${to}`,
      ]);
      const before = await held(executor);
      expect(before).toEqual(["SELECT brown.orders", "SELECT brown.secrets", "USAGE brown"]);

      // recorded: nothing changes, but the leak is visible in the plan and the access report.
      const recorded = await computePlan(run("recorded"));
      expect(recorded.plan.changes).toEqual([]);
      expect(recorded.plan.summary.adopted).toBe(0);
      expect(recorded.plan.unmanaged.map((u) => `${u.why} ${u.mode} ${u.privilege} ${u.object.table}`)).toEqual(["noPolicy recorded SELECT secrets"]);
      expect(recorded.plan.ownership.find((o) => o.grantee.name === analyst.name)?.mode).toBe("recorded");
      expect(planText(recorded.plan)).toContain("Unmanaged access: 1 held grant(s)");
      expect((JSON.parse(planJsonText(recorded.plan)) as { unmanaged: unknown[] }).unmanaged).toHaveLength(1);
      expect((await reconcile(run("recorded"))).status).toBe("succeeded");
      expect(await held(executor)).toEqual(before);
      const report = await computeAccess(run("recorded"));
      expect(report.rows.map((r) => `${r.status} ${r.privilege} ${r.table ?? r.schema}`)).toEqual(["granted USAGE brown", "granted SELECT orders", "unexplained SELECT secrets"]);

      // adopt: the grants Lake Formation allows, as they are, become the service's own; no SQL at all.
      const adopt = await computePlan(run("adopt"));
      expect(adopt.plan.changes).toEqual([]);
      expect(adopt.plan.summary.adopted).toBe(2);
      expect(planText(adopt.plan)).toContain(`~ adopt SELECT ON brown.orders to group ${analyst.name}`);
      expect(planText(adopt.plan)).toContain(`Ownership (every other grantee: recorded): group ${analyst.name}: adopt`);
      expect(adopt.plan.steps.flatMap((s) => s.records).filter((r) => r.adopt === true).map((r) => `${r.grant.privilege} ${r.grant.object.table ?? r.grant.object.schema}`)).toEqual(["USAGE brown", "SELECT orders"]);
      const adopted = await reconcile(run("adopt"));
      expect(adopted.status).toBe("succeeded");
      expect(adopted.result?.appliedChanges).toMatchObject({ grants: 0, revokes: 0 });
      expect(await held(executor)).toEqual(before);
      expect((await computePlan(run("adopt"))).plan.summary.adopted).toBe(0);

      // authoritative: only what no policy allows goes.
      const authoritative = await computePlan(run("authoritative"));
      expect(authoritative.plan.changes.map((c) => `${c.op} ${c.reason} ${c.privilege} ${c.object.table}`)).toEqual(["revoke revokeBecauseUnmanaged SELECT secrets"]);
      expect((await reconcile(run("authoritative"))).status).toBe("succeeded");
      expect(await held(executor)).toEqual(["SELECT brown.orders", "USAGE brown"]);
      const after = await computeAccess(run("authoritative"));
      expect(after.rows.every((r) => r.status === "granted")).toBe(true);

      // The policy goes: the adopted grants are revoked like any grant the service made.
      holder.snapshot = snapshot(false);
      const gone = await computePlan(run("recorded"));
      expect(gone.plan.changes.map((c) => `${c.op} ${c.reason} ${c.privilege} ${c.object.table ?? c.object.schema}`)).toEqual([
        "revoke revokeBecauseNoPolicy USAGE brown",
        "revoke revokeBecauseNoPolicy SELECT orders",
      ]);
      expect((await reconcile(run("recorded"))).status).toBe("succeeded");
      expect(await held(executor)).toEqual([]);
    } finally {
      await executor.close();
    }
  });
});
