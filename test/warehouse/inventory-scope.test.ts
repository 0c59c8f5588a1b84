import { describe, expect, it } from "vitest";
import { tableKey } from "../../src/core/grants.js";
import { readPostgresInventory } from "../../src/warehouse/inventory-postgres.js";
import { redshiftInventoryQueries } from "../../src/warehouse/inventory-redshift.js";
import { createPgliteExecutor } from "../../src/warehouse/postgres-executor.js";

/** The SQL of queries; a chunked read by its census and its read of one chunk (schema "s"). */
const text = (queries: readonly (string | { readonly select: string } | { readonly census: string; readonly chunk: (s: readonly string[]) => { readonly select: string } })[]): string =>
  queries.map((q) => (typeof q === "string" ? q : "census" in q ? `${q.census}\n${q.chunk(["s"]).select}` : q.select)).join("\n");

describe("inventory of some schemas only (an incremental run's scope)", () => {
  it("PostgreSQL: reads the listed schemas' tables and grants, nothing of the others", async () => {
    const executor = await createPgliteExecutor({});
    try {
      await executor.transaction([
        "CREATE ROLE analyst",
        "CREATE SCHEMA s",
        "CREATE SCHEMA other",
        "CREATE TABLE s.t (a INT)",
        "CREATE TABLE other.t (a INT)",
        "GRANT SELECT ON s.t, other.t TO analyst",
        "GRANT USAGE ON SCHEMA s, other TO analyst",
      ]);
      const request = { grantees: [{ kind: "role" as const, name: "analyst" }], excludeSchemas: [] };
      const scoped = await readPostgresInventory(executor, { ...request, onlySchemas: ["s"] });
      expect([...scoped.schemas]).toEqual(["s"]);
      expect([...scoped.tables.keys()]).toEqual([tableKey("s", "t")]);
      expect(scoped.held.map((g) => `${g.privilege} ${g.object.schema}.${g.object.table ?? ""}`).sort()).toEqual(["SELECT s.t", "USAGE s."]);
      const none = await readPostgresInventory(executor, { ...request, onlySchemas: [] });
      expect(none.schemas.size + none.tables.size + none.held.length).toBe(0);
    } finally {
      await executor.close();
    }
  });

  it("Redshift: every query that names schemas is limited to the listed ones", () => {
    const sql = redshiftInventoryQueries({ grantees: [{ kind: "group", name: "g" }], excludeSchemas: ["lfsync"], onlySchemas: ["s"] });
    expect(text(sql.schemas)).toContain("nspname IN ('s')");
    expect(text(sql.columns)).toContain("table_schema IN ('s')");
    for (const queries of [sql.relationPrivileges, sql.columnPrivileges, sql.schemaPrivileges]) expect(text(queries)).toContain("namespace_name IN ('s')");
    // No schema listed: no query that reads schemas at all.
    const none = redshiftInventoryQueries({ grantees: [{ kind: "group", name: "g" }], excludeSchemas: [], onlySchemas: [] });
    expect([...none.schemas, ...none.columns, ...none.relationPrivileges, ...none.columnPrivileges, ...none.schemaPrivileges]).toEqual([]);
  });
});
