import { describe, expect, it } from "vitest";
import type { CatalogSource } from "../../src/catalog/model.js";
import { configSchema } from "../../src/config/schema.js";
import type { Grant } from "../../src/core/grants.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { computeAccess, computeExplanation } from "../../src/run/access.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile } from "../../src/run/reconcile.js";
import { readInventory } from "../../src/run/wiring.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { targetBackends } from "../support/targets.js";
import { createPgliteExecutor } from "../../src/warehouse/postgres-executor.js";

const snapshot = catalog({
  databases: [
    database("acc_sales", { access: "internal", pii: "false" }, [
      table("orders", { access: "public" }, ["order_id", "amount", ["email", { pii: "true" }]]),
      table("refunds", {}, ["id", "reason"]),
    ]),
    database("acc_hr", { access: "restricted", pii: "false" }, [table("employees", {}, ["id", ["salary", { pii: "true" }]])]),
  ],
  policies: [
    policy(role("acc_analyst"), "TABLE", { access: ["public", "internal"], pii: ["false"] }, ["SELECT"]),
    policy(role("acc_hr"), "TABLE", { access: ["restricted"] }, ["SELECT", "INSERT"]),
    policy(role("acc_analyst"), "DATABASE", { access: ["restricted"] }, ["DESCRIBE"]),
  ],
});

const line = (g: Grant) => `${g.grantee.kind} ${g.grantee.name} ${g.privilege} ${g.object.schema}${g.object.table === null ? "" : `.${g.object.table}`}${g.object.columns === null ? "" : `(${g.object.columns.join(",")})`}`;

describe.each(targetBackends())("access report against $name", (backend) => {
  it("equals the grants a full apply leaves, and explain names the failing tag and its level", async () => {
    const executor = await backend.open();
    try {
      const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" } });
      const source: CatalogSource = { read: async () => ({ snapshot, warnings: [] }) };
      const grantees = [
        { kind: "group" as const, name: "acc_analyst" },
        { kind: "group" as const, name: "acc_hr" },
      ];
      await mirrorCatalog(executor, snapshot, grantees, new Set());
      expect((await reconcile({ config, source, executor, lock: createMemoryLock(), logger: createLogger("silent") })).status).toBe("succeeded");

      const { rows } = await computeAccess({ config, source, executor });
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.status !== "granted")).toEqual([]);
      const inventory = await readInventory(executor, { grantees, excludeSchemas: [config.stateSchema] });
      const heldLines = inventory.held.filter((g) => g.grantee.kind === "group").map(line).sort();
      const reportLines = rows.map((r) => line({ grantee: r.grantee, privilege: r.privilege, object: { schema: r.schema, table: r.table, columns: r.columns } })).sort();
      expect(reportLines).toEqual(heldLines);
      // Hand-checked facts: the PII column stays out; each row names its policy's principal.
      expect(reportLines).toContain("group acc_analyst SELECT acc_sales.orders(amount,order_id)");
      expect(rows.find((r) => r.table === "orders")!.policies.map((p) => p.principal)).toEqual([role("acc_analyst")]);

      const why = await computeExplanation({ config, source, executor, request: { grantee: "acc_analyst", table: "acc_sales.orders", column: "email" } });
      const select = why.policies.find((p) => p.permissions.includes("SELECT"))!;
      expect(select.outcome).toBe("none");
      expect(select.failing).toEqual([{ key: "pii", allowed: ["false"], actual: { key: "pii", value: "true", level: "column", column: "email" } }]);
      expect(why.held.map(line)).toContain("group acc_analyst SELECT acc_sales.orders(amount,order_id)");
    } finally {
      await executor.close();
    }
  });
});

describe("explain on a table two catalog tables land on", () => {
  it("says so, naming both, instead of explaining one of them (nothing is granted there)", async () => {
    const executor = await createPgliteExecutor({});
    try {
      const two = catalog({
        databases: [database("acc_sales", { access: "public" }, [table("orders", {}, ["id"])]), database("acc_eu", { access: "restricted" }, [table("orders", {}, ["id"])])],
        policies: [policy(role("acc_analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
      });
      const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" }, mapping: { databases: { rename: { acc_eu: "acc_sales" } } } });
      const source: CatalogSource = { read: async () => ({ snapshot: two, warnings: [] }) };
      await mirrorCatalog(executor, two, [{ kind: "group", name: "acc_analyst" }], new Set());
      expect((await reconcile({ config, source, executor, lock: createMemoryLock(), logger: createLogger("silent") })).status).toBe("succeeded");
      const request = { grantee: "acc_analyst", table: "acc_sales.orders" };
      await expect(computeExplanation({ config, source, executor, request })).rejects.toThrow(/catalog tables acc_sales\.orders, acc_eu\.orders all map to acc_sales\.orders: nothing is granted on it/);
      const { rows } = await computeAccess({ config, source, executor });
      expect(rows.filter((r) => r.table === "orders")).toEqual([]);
    } finally {
      await executor.close();
    }
  });
});
