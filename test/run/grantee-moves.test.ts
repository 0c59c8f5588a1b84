import { describe, expect, it } from "vitest";
import type { CatalogSource } from "../../src/catalog/model.js";
import { configSchema, type Config } from "../../src/config/schema.js";
import type { Grantee } from "../../src/core/grants.js";
import { planText } from "../../src/core/plan-report.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile } from "../../src/run/reconcile.js";
import { readInventory } from "../../src/run/wiring.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { targetBackends } from "../support/targets.js";

/**
 * A principal whose grantee changes (issue 12 item 4): from group `mv_team` to role `mv_team` (the
 * usual Redshift migration), then to role `mv_crew` (a rename). It never loses access: on Redshift the
 * new grantee's grant and the old one's revoke of each object share a transaction, grant first; on
 * PostgreSQL group and role `mv_team` are one role, so the first move only re-records the state.
 */
const team = (kind: Grantee["kind"]): Grantee => ({ kind, name: "mv_team" });
const crew: Grantee = { kind: "role", name: "mv_crew" };
const principal = role("mv_team");
const snapshot = catalog({
  // orders: a column LF does not allow, so its grant is on columns (id, amount).
  databases: [database("mv", { access: "public" }, [table("orders", {}, ["id", "amount", ["ssn", { access: "secret" }]]), table("items", {}, ["id"])])],
  policies: [policy(principal, "TABLE", { access: ["public"] }, ["SELECT"])],
});

function configMapping(grantee: Grantee | null): Config {
  return configSchema.parse({
    source: { kind: "file", path: "unused.yaml" },
    target: { kind: "pglite" },
    safety: { maxRevokes: 100, maxRevokeRatio: 1 },
    mapping: { principals: grantee === null ? {} : { [principal]: { name: grantee.name, kind: grantee.kind } } },
  });
}

/** Every transaction's statements, in order, as the service sent them. */
function recording(executor: SqlExecutor): { executor: SqlExecutor; transactions: string[][] } {
  const transactions: string[][] = [];
  return {
    transactions,
    executor: {
      dialect: executor.dialect,
      query: (sql) => executor.query(sql),
      transaction: (statements, options) => {
        transactions.push([...statements]);
        return executor.transaction(statements, options);
      },
      close: () => executor.close(),
    },
  };
}

async function held(executor: SqlExecutor): Promise<string[]> {
  const grantees = [team("group"), team("role"), crew];
  const inventory = await readInventory(executor, { grantees, excludeSchemas: ["lfsync"] });
  return inventory.held
    .filter((g) => g.object.schema === "mv")
    .map((g) => `${g.grantee.kind} ${g.grantee.name} ${g.privilege} ${g.object.table ?? g.object.schema}`)
    .sort();
}

/** Each statement revoking from `from` is right after the grant of the same object to `to`, in one transaction. */
function expectGrantBeforeRevoke(transactions: readonly string[][], from: string, to: string): number {
  let moves = 0;
  for (const statements of transactions) {
    for (const [i, s] of statements.entries()) {
      const revoke = new RegExp(`^REVOKE (\\w+(?: \\([^)]*\\))?) ON (.+) FROM (?:GROUP |ROLE )?"${from}"$`).exec(s);
      if (revoke === null) continue;
      const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      expect(statements[i - 1]).toMatch(new RegExp(`^GRANT ${escape(revoke[1]!)} ON ${escape(revoke[2]!)} TO (?:ROLE )?"${to}"$`));
      moves++;
    }
  }
  return moves;
}

describe.each(targetBackends())("a grantee move against $name", (backend) => {
  it("group -> role of the same name, then role -> role of another name: no access gap, and a second run has nothing to do", async () => {
    const target = await backend.open();
    try {
      const { executor, transactions } = recording(target);
      const source: CatalogSource = { read: async () => ({ snapshot, warnings: [] }) };
      const run = (grantee: Grantee | null) => ({ config: configMapping(grantee), source, executor, lock: createMemoryLock(), logger: createLogger("silent") });
      const postgres = target.dialect === "postgres";
      await mirrorCatalog(target, snapshot, postgres ? [team("group"), crew] : [team("group"), team("role"), crew], new Set());

      expect((await reconcile(run(null))).status).toBe("succeeded");
      const asGroup = postgres ? ["group mv_team SELECT items", "group mv_team SELECT orders", "role mv_team SELECT items", "role mv_team SELECT orders"] : ["group mv_team SELECT items", "group mv_team SELECT orders"];
      // Schema USAGE comes with the tables (DESCRIBE on the database).
      expect((await held(target)).filter((h) => !h.includes("USAGE"))).toEqual(asGroup);

      const toRole = await computePlan(run(team("role")));
      if (postgres) {
        expect(toRole.plan.changes).toEqual([]);
        expect(toRole.plan.unmanaged).toEqual([]);
        expect(planText(toRole.plan)).toContain("~ SELECT (amount, id) ON mv.orders now recorded for role mv_team");
      } else {
        expect(toRole.plan.changes.map((c) => `${c.op} ${c.grantee.kind} ${c.object.table ?? c.object.schema}`).sort()).toEqual(
          expect.arrayContaining(["grant role orders", "revoke group orders", "grant role items", "revoke group items"]),
        );
      }
      transactions.length = 0;
      const moved = await reconcile(run(team("role")));
      expect(moved.status).toBe("succeeded");
      expect(moved.result?.appliedChanges.revokes).toBe(postgres ? 0 : toRole.plan.summary.revokes);
      if (!postgres) expect(expectGrantBeforeRevoke(transactions, "mv_team", "mv_team")).toBe(toRole.plan.summary.revokes);
      const asRole = postgres ? asGroup : ["role mv_team SELECT items", "role mv_team SELECT orders"];
      expect((await held(target)).filter((h) => !h.includes("USAGE"))).toEqual(asRole);
      const again = (await computePlan(run(team("role")))).plan;
      expect(again.summary).toMatchObject({ grants: 0, revokes: 0, stateOnly: 0 });

      // A rename: the new role is granted before the old one is revoked, object by object, on both dialects.
      const toCrew = (await computePlan(run(crew))).plan;
      expect(toCrew.summary).toMatchObject({ grants: toCrew.summary.revokes });
      transactions.length = 0;
      expect((await reconcile(run(crew))).status).toBe("succeeded");
      expect(expectGrantBeforeRevoke(transactions, "mv_team", "mv_crew")).toBe(toCrew.summary.revokes);
      expect(toCrew.summary.revokes).toBeGreaterThanOrEqual(3);
      expect((await held(target)).filter((h) => h.startsWith("role mv_crew") || h.includes("mv_team"))).toEqual([
        "role mv_crew SELECT items",
        "role mv_crew SELECT orders",
        "role mv_crew USAGE mv",
      ]);
      expect((await computePlan(run(crew))).plan.summary).toMatchObject({ grants: 0, revokes: 0, stateOnly: 0 });
    } finally {
      await target.close();
    }
  });
});
