import { describe, expect, it } from "vitest";
import { accessCsvChunks, accessJsonChunks, accessSummary, csvField } from "../../../src/core/access/access-report.js";
import { type AccessRow, accessRows, filterRows } from "../../../src/core/access/access-rows.js";
import { CatalogIndex } from "../../../src/core/access/catalog-index.js";
import type { PolicyRef } from "../../../src/core/policy-ref.js";
import { mapEntitlements } from "../../../src/core/map.js";
import { resolvePolicies } from "../../../src/core/resolve.js";
import { catalog, database, defaultMapping, grant, policy, role, table } from "../../support/catalog-builders.js";

const snapshot = catalog({
  databases: [
    database("sales", { access: "public" }, [
      table("orders", { pii: "false" }, ["id", "amount", ["email", { pii: "true" }]]),
      table("refunds", { access: "secret" }, ["id"]),
    ]),
  ],
  policies: [policy(role("analyst"), "TABLE", { access: ["public"], pii: ["false"] }, ["SELECT"]), policy(role("analyst"), "TABLE", { access: ["public"] }, ["INSERT"])],
});

function rowsFor(held: Parameters<typeof accessRows>[0]["held"]): AccessRow[] {
  const desired = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "postgres");
  const index = new CatalogIndex(snapshot, (db, t) => ({ schema: db, table: t }));
  const policyOf = (because: string): PolicyRef => ({ id: because, principal: role("analyst"), resourceType: "TABLE", expression: because, permissions: [] });
  return accessRows({ desired: desired.grants, held, managedSchemas: index.managedSchemas(), policyOf, catalog: index });
}

const line = (r: AccessRow) => `${r.status} ${r.grantee.name} ${r.privilege} ${r.schema}${r.table === null ? "" : `.${r.table}`}${r.columns === null ? "" : `(${r.columns.join(",")})`}`;

describe("access rows", () => {
  it("marks each desired grant granted or pending, and held grants no policy explains as unexplained", () => {
    const rows = rowsFor([
      grant("analyst", "USAGE", "sales"),
      grant("analyst", "SELECT", "sales.orders(amount,id)"),
      grant("analyst", "SELECT", "sales.refunds"),
      grant("analyst", "SELECT", "elsewhere.t"),
    ]);
    expect(rows.map(line)).toEqual([
      "granted analyst USAGE sales",
      "pending analyst INSERT sales.orders",
      "granted analyst SELECT sales.orders(amount,id)",
      "unexplained analyst SELECT sales.refunds",
    ]);
  });

  it("shows a held grant on other columns as differing, with the columns Lake Formation allows", () => {
    const rows = rowsFor([grant("analyst", "SELECT", "sales.orders")]);
    const select = rows.find((r) => r.privilege === "SELECT")!;
    expect(select.status).toBe("differs");
    expect(select.columns).toBeNull();
    expect(select.allowedColumns).toEqual(["amount", "id"]);
  });

  it("carries the policies and the tags with the level each comes from", () => {
    const rows = rowsFor([]);
    const select = rows.find((r) => r.privilege === "SELECT")!;
    expect(select.policies.length).toBe(1);
    expect(select.tags).toEqual([
      { key: "access", value: "public", level: "database" },
      { key: "pii", value: "false", level: "table" },
    ]);
    const refunds = new CatalogIndex(snapshot, (db, t) => ({ schema: db, table: t })).tagsBehind("sales", "refunds", null);
    expect(refunds).toEqual([{ key: "access", value: "secret", level: "table" }]);
    const withColumn = new CatalogIndex(snapshot, (db, t) => ({ schema: db, table: t })).tagsBehind("sales", "orders", ["email"]);
    expect(withColumn).toContainEqual({ key: "pii", value: "true", level: "column", column: "email" });
  });

  it("shares one tags list between the rows on one object and column list, and keeps them apart otherwise", () => {
    const rows = rowsFor([grant("analyst", "SELECT", "sales.orders"), grant("analyst", "DELETE", "sales.orders"), grant("analyst", "SELECT", "sales.refunds")]);
    const on = (privilege: string, table: string) => rows.find((r) => r.privilege === privilege && r.table === table)!;
    // INSERT (pending) and DELETE (unexplained) on the whole of sales.orders: one list, not one per row.
    expect(on("INSERT", "orders").tags).toBe(on("DELETE", "orders").tags);
    expect(on("DELETE", "orders").tags).toEqual(new CatalogIndex(snapshot, (db, t) => ({ schema: db, table: t })).tagsBehind("sales", "orders", null));
    expect(on("SELECT", "refunds").tags).toEqual([{ key: "access", value: "secret", level: "table" }]);
  });

  it("gives no tags behind a warehouse table or schema that two catalog objects land on (the mapper grants nothing there)", () => {
    const two = catalog({
      databases: [database("Sales", { access: "public" }, [table("orders", {}, ["id"])]), database("sales", { access: "secret" }, [table("orders", {}, ["id"]), table("items", {}, ["id"])])],
      policies: [],
    });
    const index = new CatalogIndex(two, (db, t) => ({ schema: db.toLowerCase(), table: t }));
    expect(index.tagsBehind("sales", "orders", null)).toEqual([]);
    expect(index.tagsBehind("sales", null, null)).toEqual([]);
    expect(index.tablesAt("sales", "orders").map((t) => t.database.name)).toEqual(["Sales", "sales"]);
    expect(index.tagsBehind("sales", "items", null)).toEqual([{ key: "access", value: "secret", level: "database" }]);
    expect([...index.managedSchemas()]).toEqual(["sales"]);
  });

  it("filters by grantee, schema and table", () => {
    const rows = rowsFor([grant("analyst", "SELECT", "sales.refunds")]);
    expect(filterRows(rows, { table: "refunds" }).map(line)).toEqual(["unexplained analyst SELECT sales.refunds"]);
    expect(filterRows(rows, { grantee: "nobody" })).toEqual([]);
    expect(filterRows(rows, { schema: "sales" }).length).toBe(rows.length);
  });
});

describe("access report formats", () => {
  const rows = rowsFor([grant("analyst", "SELECT", "sales.refunds")]);

  it("JSON lists each policy once and parses", () => {
    const json = JSON.parse([...accessJsonChunks(rows)].join("")) as { summary: unknown; policies: PolicyRef[]; rows: { policies: string[] }[] };
    expect(json.summary).toEqual(accessSummary(rows));
    expect(new Set(json.policies.map((p) => p.id)).size).toBe(json.policies.length);
    expect(json.rows.length).toBe(rows.length);
    for (const r of json.rows) for (const id of r.policies) expect(json.policies.map((p) => p.id)).toContain(id);
  });

  it("CSV has one line per row plus a header, and defuses formulas", () => {
    const csv = [...accessCsvChunks(rows)].join("");
    expect(csv.trimEnd().split("\r\n").length).toBe(rows.length + 1);
    expect(csvField("=HYPERLINK(\"x\")")).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField("-1")).toBe("'-1");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField("plain")).toBe("plain");
  });
});
