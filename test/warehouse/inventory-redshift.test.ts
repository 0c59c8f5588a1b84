import { describe, expect, it } from "vitest";
import { granteeKey, tableKey } from "../../src/core/grants.js";
import type { Row, SqlExecutor } from "../../src/warehouse/executor.js";
import {
  inventoryFromRedshiftRows,
  readRedshiftInventory,
  redshiftInventoryQueries,
  type RedshiftInventoryRows,
} from "../../src/warehouse/inventory-redshift.js";

/**
 * SVV_* views exist only in Redshift: the SQL text is checked as text, and the mapping runs on rows
 * recorded in the shape Redshift documents (aws-facts §6.4).
 */
const request = {
  grantees: [
    { kind: "group", name: "analyst" },
    { kind: "role", name: "o'hara" },
    { kind: "group", name: "analyst" },
  ],
  excludeSchemas: ["lfsync"],
} as const;

const ROWS: RedshiftInventoryRows = {
  schemas: [{ schema_name: "sales" }, { schema_name: "hr" }],
  columns: [
    { schema_name: "sales", table_name: "orders", column_name: "id" },
    { schema_name: "sales", table_name: "orders", column_name: "email" },
    { schema_name: "hr", table_name: "people", column_name: "name" },
  ],
  grantees: [
    { kind: "group", name: "analyst" },
    { kind: "role", name: "o'hara" },
    { kind: "role", name: "sys:dba" },
  ],
  schemaPrivileges: [
    { namespace_name: "sales", privilege_type: "USAGE", identity_type: "group", identity_name: "analyst" },
    { namespace_name: "sales", privilege_type: "ALTER", identity_type: "group", identity_name: "analyst" },
  ],
  relationPrivileges: [
    { namespace_name: "sales", relation_name: "orders", privilege_type: "SELECT", identity_type: "group", identity_name: "analyst" },
    { namespace_name: "sales", relation_name: "orders", privilege_type: "DROP", identity_type: "group", identity_name: "analyst" },
    { namespace_name: "sales", relation_name: "orders", privilege_type: "SELECT", identity_type: "user", identity_name: "alice" },
  ],
  columnPrivileges: [
    { namespace_name: "hr", relation_name: "people", column_name: "name", privilege_type: "SELECT", identity_type: "role", identity_name: "o'hara" },
    { namespace_name: "hr", relation_name: "people", column_name: "dept", privilege_type: "SELECT", identity_type: "role", identity_name: "o'hara" },
    { namespace_name: "hr", relation_name: "people", column_name: "name", privilege_type: "UPDATE", identity_type: "role", identity_name: "o'hara" },
  ],
};

describe("redshiftInventoryQueries", () => {
  const sql = redshiftInventoryQueries(request);

  it("reads schemas, tables and columns, leaving out system and excluded schemas", () => {
    expect(sql.schemas).toBe(
      "SELECT nspname AS schema_name FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'catalog_history')" +
        " AND nspname NOT IN ('lfsync')",
    );
    expect(sql.columns).toContain("FROM svv_columns WHERE table_catalog = current_database()");
    expect(sql.columns).toContain("table_schema NOT IN ('lfsync')");
  });

  it("lists grantees from pg_group and SVV_ROLES", () => {
    expect(sql.grantees).toBe(
      "SELECT 'group' AS kind, groname AS name FROM pg_group UNION ALL SELECT 'role' AS kind, role_name AS name FROM svv_roles",
    );
  });

  it("reads held privileges of the asked grantees only, by identity type, names quoted", () => {
    const who = "((identity_type = 'group' AND identity_name IN ('analyst')) OR (identity_type = 'role' AND identity_name IN ('o''hara')))";
    expect(sql.relationPrivileges).toBe(
      `SELECT namespace_name, relation_name, privilege_type, identity_type, identity_name FROM svv_relation_privileges WHERE ${who} AND namespace_name NOT IN ('lfsync')`,
    );
    expect(sql.columnPrivileges).toContain(`FROM svv_column_privileges WHERE ${who}`);
    expect(sql.schemaPrivileges).toContain(`FROM svv_schema_privileges WHERE ${who}`);
  });

  it("skips the privilege views when no grantee is asked about", () => {
    const none = redshiftInventoryQueries({ grantees: [], excludeSchemas: [] });
    expect([none.relationPrivileges, none.columnPrivileges, none.schemaPrivileges]).toEqual([null, null, null]);
    expect(none.schemas).not.toContain("NOT IN ()");
  });
});

describe("inventoryFromRedshiftRows", () => {
  const inventory = inventoryFromRedshiftRows(ROWS);

  it("maps schemas, tables with their columns, and grantees", () => {
    expect([...inventory.schemas]).toEqual(["sales", "hr"]);
    expect([...inventory.tables.entries()].map(([key, columns]) => [key, [...columns]])).toEqual([
      [tableKey("sales", "orders"), ["id", "email"]],
      [tableKey("hr", "people"), ["name"]],
    ]);
    expect([...inventory.grantees]).toEqual(["group:analyst", "role:o'hara", "role:sys:dba"]);
    expect(inventory.grantees.has(granteeKey({ kind: "role", name: "o'hara" }))).toBe(true);
  });

  it("turns privilege rows into grants: one per grantee x table x privilege, columns sorted; users and unknown privileges left out", () => {
    expect(inventory.held).toEqual([
      { grantee: { kind: "group", name: "analyst" }, privilege: "USAGE", object: { schema: "sales", table: null, columns: null } },
      { grantee: { kind: "group", name: "analyst" }, privilege: "DROP", object: { schema: "sales", table: "orders", columns: null } },
      { grantee: { kind: "group", name: "analyst" }, privilege: "SELECT", object: { schema: "sales", table: "orders", columns: null } },
      { grantee: { kind: "role", name: "o'hara" }, privilege: "SELECT", object: { schema: "hr", table: "people", columns: ["dept", "name"] } },
      { grantee: { kind: "role", name: "o'hara" }, privilege: "UPDATE", object: { schema: "hr", table: "people", columns: ["name"] } },
    ]);
  });
});

describe("readRedshiftInventory", () => {
  it("runs the queries through the executor and maps what comes back", async () => {
    const sql = redshiftInventoryQueries(request);
    const answers = new Map<string | null, readonly Row[]>([
      [sql.schemas, ROWS.schemas],
      [sql.columns, ROWS.columns],
      [sql.grantees, ROWS.grantees],
      [sql.relationPrivileges, ROWS.relationPrivileges],
      [sql.columnPrivileges, ROWS.columnPrivileges],
      [sql.schemaPrivileges, ROWS.schemaPrivileges],
    ]);
    const seen: string[] = [];
    const executor: SqlExecutor = {
      dialect: "redshift",
      async query(text) {
        seen.push(text);
        const rows = answers.get(text);
        if (rows === undefined) throw new Error(`unexpected SQL: ${text}`);
        return [...rows];
      },
      async transaction() {
        throw new Error("not used");
      },
      async close() {},
    };
    expect(await readRedshiftInventory(executor, request)).toEqual(inventoryFromRedshiftRows(ROWS));
    expect(seen).toHaveLength(6);
  });
});
