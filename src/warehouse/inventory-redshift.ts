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
import type { Row, SqlExecutor } from "./executor.js";
import type { InventoryRequest, TargetInventory } from "./inventory-model.js";

/**
 * Inventory of a Redshift database in six set-based queries (DESIGN §6). Privileges come from the
 * SVV_*_PRIVILEGES views, which show only explicit grants and, for anyone but a superuser (or SYSLOG
 * ACCESS UNRESTRICTED), only the identities the user can see (aws-facts §6.4, trap 11): preflight.ts
 * checks that first.
 */
export interface RedshiftInventoryQueries {
  readonly schemas: string;
  readonly columns: string;
  readonly grantees: string;
  /** null when no grantee is asked about. */
  readonly relationPrivileges: string | null;
  readonly columnPrivileges: string | null;
  readonly schemaPrivileges: string | null;
}

export interface RedshiftInventoryRows {
  readonly schemas: readonly Row[];
  readonly columns: readonly Row[];
  readonly grantees: readonly Row[];
  readonly relationPrivileges: readonly Row[];
  readonly columnPrivileges: readonly Row[];
  readonly schemaPrivileges: readonly Row[];
}

export async function readRedshiftInventory(executor: SqlExecutor, request: InventoryRequest): Promise<TargetInventory> {
  const sql = redshiftInventoryQueries(request);
  const none = async (): Promise<Row[]> => [];
  const [schemas, columns, grantees, relationPrivileges, columnPrivileges, schemaPrivileges] = await Promise.all([
    executor.query(sql.schemas),
    executor.query(sql.columns),
    executor.query(sql.grantees),
    sql.relationPrivileges === null ? none() : executor.query(sql.relationPrivileges),
    sql.columnPrivileges === null ? none() : executor.query(sql.columnPrivileges),
    sql.schemaPrivileges === null ? none() : executor.query(sql.schemaPrivileges),
  ]);
  return inventoryFromRedshiftRows({ schemas, columns, grantees, relationPrivileges, columnPrivileges, schemaPrivileges });
}

/** System schemas Redshift keeps in pg_namespace (pg_catalog, pg_internal, pg_automv, ...). */
const SYSTEM_SCHEMAS = "nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'catalog_history')";

export function redshiftInventoryQueries(request: InventoryRequest): RedshiftInventoryQueries {
  const only = request.onlySchemas;
  const within = (column: string): string =>
    only === undefined ? "" : only.length === 0 ? " AND FALSE" : ` AND ${column} IN (${only.map((s) => quoteLiteral(s, "redshift")).join(", ")})`;
  const excluded = (column: string): string =>
    (request.excludeSchemas.length === 0
      ? "TRUE"
      : `${column} NOT IN (${request.excludeSchemas.map((s) => quoteLiteral(s, "redshift")).join(", ")})`) + within(column);
  const byKind = (kind: GranteeKind): string[] =>
    [...new Set(request.grantees.filter((g) => g.kind === kind).map((g) => g.name))].sort(compareStrings);
  const identities = (["group", "role"] as const)
    .filter((kind) => byKind(kind).length > 0)
    .map(
      (kind) =>
        `(identity_type = '${kind}' AND identity_name IN (${byKind(kind)
          .map((name) => quoteLiteral(name, "redshift"))
          .join(", ")}))`,
    );
  const whoAndWhere = `(${identities.join(" OR ")}) AND ${excluded("namespace_name")}`;
  const held = identities.length > 0;
  return {
    schemas: `SELECT nspname AS schema_name FROM pg_namespace WHERE ${SYSTEM_SCHEMAS} AND ${excluded("nspname")}`,
    columns:
      "SELECT table_schema AS schema_name, table_name, column_name FROM svv_columns" +
      ` WHERE table_catalog = current_database() AND table_schema !~ '^pg_'` +
      ` AND table_schema NOT IN ('information_schema', 'catalog_history') AND ${excluded("table_schema")}`,
    grantees: "SELECT 'group' AS kind, groname AS name FROM pg_group UNION ALL SELECT 'role' AS kind, role_name AS name FROM svv_roles",
    relationPrivileges: held
      ? "SELECT namespace_name, relation_name, privilege_type, identity_type, identity_name" +
        ` FROM svv_relation_privileges WHERE ${whoAndWhere}`
      : null,
    columnPrivileges: held
      ? "SELECT namespace_name, relation_name, column_name, privilege_type, identity_type, identity_name" +
        ` FROM svv_column_privileges WHERE ${whoAndWhere}`
      : null,
    schemaPrivileges: held
      ? `SELECT namespace_name, privilege_type, identity_type, identity_name FROM svv_schema_privileges WHERE ${whoAndWhere}`
      : null,
  };
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
  return { schemas, tables, grantees, held };
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
