/**
 * InventoryRequest.onlyTables (an incremental run naming a few tables): the Redshift inventory reads
 * those tables' columns and privileges only, and still every schema-level privilege of the scoped
 * schemas; what it returns for those tables is what the whole-schema read returns for them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableKey, type Grant } from "../../src/core/grants.js";
import { readRedshiftInventory, redshiftInventoryQueries } from "../../src/warehouse/inventory-redshift.js";
import { openRedshift, type RedshiftTarget } from "./redshift-target.js";

/** The SQL of queries; a chunked read by its census and its read of one chunk (schema "s"). */
const text = (queries: readonly (string | { readonly select: string } | { readonly census: string; readonly chunk: (s: readonly string[]) => { readonly select: string } })[]): string =>
  queries.map((q) => (typeof q === "string" ? q : "census" in q ? `${q.census}\n${q.chunk(["s"]).select}` : q.select)).join("\n");
const held = (grants: readonly Grant[]) => grants.map((g) => `${g.privilege} ${g.object.schema}.${g.object.table ?? ""}${g.object.columns === null ? "" : `(${g.object.columns.join(",")})`}`).sort();

describe("inventory of some tables only (onlyTables)", () => {
  it("Redshift SQL: table-level queries name the tables per schema; schema-level ones the schemas", () => {
    const sql = redshiftInventoryQueries({
      grantees: [{ kind: "group", name: "g" }],
      excludeSchemas: ["lfsync"],
      onlySchemas: ["s", "x"],
      onlyTables: [
        { schema: "s", table: "t" },
        { schema: "x", table: "u" },
        { schema: "s", table: "t" },
      ],
    });
    expect(text(sql.columns)).toContain("table_schema = 's' AND table_name IN ('t')");
    expect(text(sql.columns)).toContain("table_schema = 'x' AND table_name IN ('u')");
    for (const queries of [sql.relationPrivileges, sql.columnPrivileges]) {
      expect(text(queries)).toContain("namespace_name = 's' AND relation_name IN ('t')");
      expect(text(queries)).not.toContain("namespace_name IN (");
    }
    expect(text(sql.schemaPrivileges)).toContain("namespace_name IN ('s', 'x')");
    expect(text(sql.schemas)).toContain("nspname IN ('s', 'x')");
  });

  describe("against the local Data API endpoint in Redshift mode", () => {
    let target: RedshiftTarget;
    beforeAll(async () => {
      target = await openRedshift();
      await target.setup([
        "CREATE GROUP g",
        "CREATE SCHEMA s",
        "CREATE TABLE s.t (a INT, b INT)",
        "CREATE TABLE s.u (a INT)",
        "GRANT USAGE ON SCHEMA s TO GROUP g",
        "GRANT SELECT ON s.t, s.u TO GROUP g",
        "GRANT SELECT (a) ON s.u TO GROUP g",
      ]);
    }, 60_000);
    afterAll(async () => {
      await target.close();
    });

    it("returns the named tables' columns and grants, the schema's USAGE, and nothing of the other tables", async () => {
      const request = { grantees: [{ kind: "group" as const, name: "g" }], excludeSchemas: [], onlySchemas: ["s"] };
      const some = await readRedshiftInventory(target.executor, { ...request, onlyTables: [{ schema: "s", table: "t" }] });
      const whole = await readRedshiftInventory(target.executor, request);
      expect([...some.tables.keys()]).toEqual([tableKey("s", "t")]);
      expect(some.tables.get(tableKey("s", "t"))).toEqual(whole.tables.get(tableKey("s", "t")));
      expect(held(some.held)).toEqual(["SELECT s.t", "USAGE s."]);
      expect(held(whole.held.filter((g) => g.object.table === null || g.object.table === "t"))).toEqual(held(some.held));
      expect([...some.schemas]).toEqual([...whole.schemas]);
    });
  });
});
