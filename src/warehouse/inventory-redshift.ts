import {
  SCHEMA_PRIVILEGES,
  TABLE_PRIVILEGES,
  compareStrings,
  grantSlotKey,
  granteeKey,
  tableKey,
  type Grant,
  type GranteeKind,
  type Privilege,
} from "../core/grants.js";
import { quoteLiteral } from "../core/sql.js";
import { type KeysetQuery, literalChunks, PAGE_ROWS, readKeyset } from "./bounded-reads.js";
import type { Row, SqlExecutor } from "./executor.js";
import type { InventoryRequest, TargetInventory } from "./inventory-model.js";

/**
 * Inventory of a Redshift database in a few set-based queries (DESIGN §6). Privileges come from the
 * SVV_*_PRIVILEGES views, which show only explicit grants and, for anyone but a superuser (or a
 * holder of ACCESS SYSTEM TABLE), only the identities the user can see (aws-facts §6.4, trap 11):
 * preflight.ts checks that first. Every IN-list is cut under the statement limit and the long
 * reads (columns, column privileges) are paged, so no result grows with the catalog past a page.
 */
export interface RedshiftInventoryQueries {
  readonly schemas: readonly string[];
  readonly externalSchemas: string;
  readonly lateBindingViews: string;
  readonly columns: readonly KeysetQuery[];
  readonly grantees: string;
  readonly relationPrivileges: readonly KeysetQuery[];
  readonly columnPrivileges: readonly KeysetQuery[];
  readonly schemaPrivileges: readonly string[];
}

export interface RedshiftInventoryRows {
  readonly schemas: readonly Row[];
  readonly columns: readonly Row[];
  readonly grantees: readonly Row[];
  readonly relationPrivileges: readonly Row[];
  readonly columnPrivileges: readonly Row[];
  readonly schemaPrivileges: readonly Row[];
  readonly externalSchemas?: readonly Row[];
  readonly lateBindingViews?: readonly Row[];
}

export async function readRedshiftInventory(executor: SqlExecutor, request: InventoryRequest, pageRows = PAGE_ROWS): Promise<TargetInventory> {
  const sql = redshiftInventoryQueries(request);
  const all = async (queries: readonly string[]): Promise<Row[]> => (await Promise.all(queries.map((q) => executor.query(q)))).flat();
  const paged = async (queries: readonly KeysetQuery[]): Promise<Row[]> => {
    const rows: Row[] = [];
    for (const query of queries) for (const row of await readKeyset(executor, query, pageRows)) rows.push(row);
    return rows;
  };
  const [schemas, externalSchemas, lateBindingViews, grantees, schemaPrivileges] = await Promise.all([
    all(sql.schemas),
    executor.query(sql.externalSchemas),
    executor.query(sql.lateBindingViews),
    executor.query(sql.grantees),
    all(sql.schemaPrivileges),
  ]);
  const [columns, relationPrivileges, columnPrivileges] = await Promise.all([paged(sql.columns), paged(sql.relationPrivileges), paged(sql.columnPrivileges)]);
  return inventoryFromRedshiftRows({ schemas, columns, grantees, relationPrivileges, columnPrivileges, schemaPrivileges, externalSchemas, lateBindingViews });
}

/** System schemas Redshift keeps in pg_namespace (pg_catalog, pg_internal, pg_automv, ...). */
const SYSTEM_SCHEMAS = "nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'catalog_history')";

export function redshiftInventoryQueries(request: InventoryRequest): RedshiftInventoryQueries {
  // Excluded schemas are few (the state schema); an incremental run's scope may be long: chunked.
  const excluded = (column: string): string =>
    request.excludeSchemas.length === 0 ? "TRUE" : literalChunks(request.excludeSchemas, "redshift").map((list) => `${column} NOT IN (${list})`).join(" AND ");
  const scopes = (column: string): string[] => {
    const only = request.onlySchemas;
    if (only === undefined) return [excluded(column)];
    return literalChunks(only, "redshift").map((list) => `${excluded(column)} AND ${column} IN (${list})`);
  };
  // onlyTables: one condition per schema and chunk of its table names.
  const tableScopes = (schemaColumn: string, tableColumn: string): string[] => {
    if (request.onlyTables === undefined) return scopes(schemaColumn);
    const bySchema = new Map<string, Set<string>>();
    for (const { schema, table } of request.onlyTables) bySchema.set(schema, (bySchema.get(schema) ?? new Set()).add(table));
    return [...bySchema.keys()].sort(compareStrings).flatMap((schema) =>
      literalChunks([...bySchema.get(schema)!].sort(compareStrings), "redshift").map(
        (list) => `${excluded(schemaColumn)} AND ${schemaColumn} = ${quoteLiteral(schema, "redshift")} AND ${tableColumn} IN (${list})`,
      ),
    );
  };
  const identities = identityConditions(request);
  const privileges = (where: (scope: string) => string, inScope: readonly string[]): string[] =>
    identities.flatMap((who) => inScope.map((scope) => `${where(scope)} AND ${who}`));
  return {
    schemas: scopes("nspname").map((scope) => `SELECT nspname AS schema_name FROM pg_namespace WHERE ${SYSTEM_SCHEMAS} AND ${scope}`),
    externalSchemas: "SELECT schemaname AS schema_name FROM svv_external_schemas",
    // PG_GET_LATE_BINDING_VIEW_COLS: a row per column of every late-binding view (its documented table form).
    lateBindingViews:
      "SELECT DISTINCT view_schema AS schema_name, view_name AS table_name FROM pg_get_late_binding_view_cols()" +
      " cols(view_schema name, view_name name, col_name name, col_type varchar, col_num int)",
    // External (Spectrum) tables are left out: nothing is granted on them (external-objects.ts).
    columns: tableScopes("table_schema", "table_name").map((scope) => ({
      select:
        "SELECT table_schema AS schema_name, table_name, column_name, ordinal_position FROM svv_columns" +
        ` WHERE table_catalog = current_database() AND table_schema !~ '^pg_'` +
        ` AND table_schema NOT IN ('information_schema', 'catalog_history') AND ${scope}` +
        " AND table_schema NOT IN (SELECT schemaname FROM svv_external_schemas)",
      keys: ["schema_name", "table_name", "ordinal_position"],
      keyExpressions: ["table_schema", "table_name", "ordinal_position"],
    })),
    grantees: "SELECT 'group' AS kind, groname AS name FROM pg_group UNION ALL SELECT 'role' AS kind, role_name AS name FROM svv_roles",
    relationPrivileges: privileges(
      (scope) => `SELECT namespace_name, relation_name, privilege_type, identity_type, identity_name FROM svv_relation_privileges WHERE ${scope}`,
      tableScopes("namespace_name", "relation_name"),
    ).map(
      (select) => ({ select, keys: PRIVILEGE_KEYS, keyExpressions: PRIVILEGE_KEYS }),
    ),
    columnPrivileges: privileges(
      (scope) => `SELECT namespace_name, relation_name, column_name, privilege_type, identity_type, identity_name FROM svv_column_privileges WHERE ${scope}`,
      tableScopes("namespace_name", "relation_name"),
    ).map((select) => ({ select, keys: COLUMN_PRIVILEGE_KEYS, keyExpressions: COLUMN_PRIVILEGE_KEYS })),
    schemaPrivileges: privileges((scope) => `SELECT namespace_name, privilege_type, identity_type, identity_name FROM svv_schema_privileges WHERE ${scope}`, scopes("namespace_name")),
  };
}

const PRIVILEGE_KEYS = ["namespace_name", "relation_name", "privilege_type", "identity_type", "identity_name"];
const COLUMN_PRIVILEGE_KEYS = ["namespace_name", "relation_name", "column_name", "privilege_type", "identity_type", "identity_name"];

/** One condition per chunk of the asked grantees, by identity type (empty when none is asked about). */
function identityConditions(request: InventoryRequest): string[] {
  const names = (kind: GranteeKind): string[] => [...new Set(request.grantees.filter((g) => g.kind === kind).map((g) => g.name))].sort(compareStrings);
  return (["group", "role"] as const).flatMap((kind) => literalChunks(names(kind), "redshift").map((list) => `identity_type = '${kind}' AND identity_name IN (${list})`));
}

/** Pure: rows of the queries above -> the inventory. Privileges the model has no name for are left out. */
export function inventoryFromRedshiftRows(rows: RedshiftInventoryRows): TargetInventory {
  const schemas = new Set(rows.schemas.map((r) => text(r, "schema_name")));
  const tables = new Map<string, Set<string>>();
  for (const row of rows.columns) {
    const key = tableKey(text(row, "schema_name"), text(row, "table_name"));
    let columns = tables.get(key);
    if (columns === undefined) tables.set(key, (columns = new Set()));
    columns.add(text(row, "column_name"));
  }
  const grantees = new Set<string>();
  for (const row of rows.grantees) {
    const kind = granteeKind(row.kind);
    if (kind !== null) grantees.add(granteeKey({ kind, name: text(row, "name") }));
  }

  const held: Grant[] = [];
  for (const row of rows.schemaPrivileges) {
    const grantee = granteeOf(row);
    const privilege = privilegeOf(row, SCHEMA_PRIVILEGES);
    if (grantee !== null && privilege !== null) {
      held.push({ grantee, privilege, object: { schema: text(row, "namespace_name"), table: null, columns: null } });
    }
  }
  for (const row of rows.relationPrivileges) {
    const grantee = granteeOf(row);
    const privilege = privilegeOf(row, TABLE_PRIVILEGES);
    if (grantee !== null && privilege !== null) {
      held.push({
        grantee,
        privilege,
        object: { schema: text(row, "namespace_name"), table: text(row, "relation_name"), columns: null },
      });
    }
  }
  // One Grant per grantee x table x privilege, its columns sorted (inventory-model.ts).
  const columnGrants = new Map<string, { grant: Grant; columns: Set<string> }>();
  for (const row of rows.columnPrivileges) {
    const grantee = granteeOf(row);
    const privilege = privilegeOf(row, TABLE_PRIVILEGES);
    if (grantee === null || privilege === null) continue;
    const grant: Grant = {
      grantee,
      privilege,
      object: { schema: text(row, "namespace_name"), table: text(row, "relation_name"), columns: [] },
    };
    const key = grantSlotKey(grant);
    const entry = columnGrants.get(key) ?? { grant, columns: new Set<string>() };
    entry.columns.add(text(row, "column_name"));
    columnGrants.set(key, entry);
  }
  for (const { grant, columns } of columnGrants.values()) {
    held.push({ ...grant, object: { ...grant.object, columns: [...columns].sort(compareStrings) } });
  }
  held.sort(compareGrants);
  const externalSchemas = new Set((rows.externalSchemas ?? []).map((r) => text(r, "schema_name")));
  const lateBindingViews = new Set((rows.lateBindingViews ?? []).map((r) => tableKey(text(r, "schema_name"), text(r, "table_name"))));
  return { schemas, tables, grantees, held, externalSchemas, lateBindingViews };
}

/** Grantee, schema, table (the schema's own grants first), privilege. */
function compareGrants(a: Grant, b: Grant): number {
  return (
    compareStrings(a.grantee.kind, b.grantee.kind) ||
    compareStrings(a.grantee.name, b.grantee.name) ||
    compareStrings(a.object.schema, b.object.schema) ||
    Number(a.object.table !== null) - Number(b.object.table !== null) ||
    compareStrings(a.object.table ?? "", b.object.table ?? "") ||
    compareStrings(a.privilege, b.privilege)
  );
}

function text(row: Row, column: string): string {
  const value = row[column];
  return value === null || value === undefined ? "" : String(value);
}

function granteeKind(value: unknown): GranteeKind | null {
  const kind = typeof value === "string" ? value.toLowerCase() : "";
  return kind === "group" || kind === "role" ? kind : null;
}

function granteeOf(row: Row): { kind: GranteeKind; name: string } | null {
  const kind = granteeKind(row.identity_type);
  return kind === null ? null : { kind, name: text(row, "identity_name") };
}

function privilegeOf<P extends Privilege>(row: Row, known: readonly P[]): P | null {
  const privilege = text(row, "privilege_type").toUpperCase();
  return (known as readonly string[]).includes(privilege) ? (privilege as P) : null;
}
