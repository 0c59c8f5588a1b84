import { describe, expect, it } from "vitest";
import type { CatalogSource } from "../../src/catalog/model.js";
import { configSchema } from "../../src/config/schema.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { executorBackends } from "../support/postgres.js";

/**
 * Issue 13 item 14: a mapping that names a superuser is an error and nothing is granted to it. On
 * PostgreSQL a grantee is a role, and a role can be SUPERUSER; the inventory reports which are.
 * (Redshift groups and roles cannot be superusers, a user attribute there; sys: roles are refused
 * by name, test/core/map-principals.test.ts.)
 */
describe.each(executorBackends())("a grantee that is a superuser ($name)", (backend) => {
  it("is reported as an error and granted nothing, while other grantees are planned as usual", async () => {
    const executor = await backend.open();
    try {
      const snapshot = catalog({
        databases: [database("sales", { access: "public" }, [table("orders", {}, ["id", "amount"])])],
        policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"]), policy(role("boss"), "TABLE", { access: ["public"] }, ["SELECT"])],
      });
      await mirrorCatalog(executor, snapshot, [], new Set());
      await executor.transaction(["CREATE ROLE analyst NOLOGIN", "CREATE ROLE boss SUPERUSER NOLOGIN"]);
      const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" } });
      const source: CatalogSource = { read: async () => ({ snapshot, warnings: [] }) };
      const { plan } = await computePlan({ config, source, executor });
      const granted = plan.changes.filter((c) => c.op === "grant").map((c) => `${c.grantee.name} ${c.privilege} ${c.object.schema}.${c.object.table ?? ""}`);
      expect(granted.sort()).toEqual(["analyst SELECT sales.orders", "analyst USAGE sales."]);
      expect(plan.warnings).toContainEqual(expect.stringMatching(/^error: group "boss" is a superuser: 2 grants not applied/));
    } finally {
      await executor.close();
    }
  });
});
