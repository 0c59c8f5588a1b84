import { compareStrings, type GranteeKind } from "../core/grants.js";
import { quoteLiteral } from "../core/sql.js";
import { type KeysetQuery, literalChunks } from "./bounded-reads.js";
import type { InventoryRequest } from "./inventory-model.js";

/**
 * The SQL of the Redshift inventory (inventory-redshift.ts). Privileges come from the
 * SVV_*_PRIVILEGES views, which show only explicit grants and, for anyone but a superuser (or a
 * holder of ACCESS SYSTEM TABLE), only the identities the user can see (aws-facts §6.4, trap 11):
 * preflight.ts checks that first. Every IN-list is cut under the statement limit.
 *
 * The three reads that grow with the catalog (columns, relation and column privileges) are read a
 * few schemas at a time: a census counts each schema's rows, schemas are grouped so that a chunk
 * is about a page, and each chunk is read in keyset pages with its schemas named in the WHERE
 * clause. A view evaluated on the leader node can then filter on the schema (and, inside one
 * schema, on the relation name) before it expands privileges: a page costs what it reads, not the
 * whole catalog again, and no result grows past a page however large the catalog.
 */
export interface RedshiftInventoryQueries {
  readonly schemas: readonly string[];
  readonly externalSchemas: string;
  readonly lateBindingViews: string;
  readonly grantees: string;
  readonly schemaPrivileges: readonly string[];
  readonly columns: readonly TableScaleRead[];
  readonly relationPrivileges: readonly TableScaleRead[];
  readonly columnPrivileges: readonly TableScaleRead[];
}

/** A read counted per schema first, then read a chunk of schemas at a time. */
export interface ChunkedRead {
  /** `schema_name`, `row_count` of each schema with rows. */
  readonly census: string;
  /** The keyset read of the chunk's schemas (bounded-reads.ts schemaChunks). */
  readonly chunk: (schemas: readonly string[]) => KeysetQuery;
}

/** An incremental run's few tables are read directly (one schema and a list of its tables a query). */
export type TableScaleRead = ChunkedRead | KeysetQuery;

export function isChunkedRead(read: TableScaleRead): read is ChunkedRead {
  return "census" in read;
}

/** System schemas Redshift keeps in pg_namespace (pg_catalog, pg_internal, pg_automv, ...). */
const SYSTEM_SCHEMAS = "nspname !~ '^pg_' AND nspname NOT IN ('information_schema', 'catalog_history')";

/** One of the three views read at table scale: its output columns and keys, the schema key first. */
interface ScaledView {
  readonly select: string;
  readonly schemaColumn: string;
  readonly tableColumn: string;
  readonly from: string;
  readonly keys: readonly string[];
  readonly keyExpressions: readonly string[];
}

const COLUMNS: ScaledView = {
  select: "table_schema AS schema_name, table_name, column_name, ordinal_position",
  schemaColumn: "table_schema",
  tableColumn: "table_name",
  from: "svv_columns",
  keys: ["schema_name", "table_name", "ordinal_position"],
  keyExpressions: ["table_schema", "table_name", "ordinal_position"],
};

const PRIVILEGE_KEYS = ["namespace_name", "relation_name", "privilege_type", "identity_type", "identity_name"];
const RELATION_PRIVILEGES: ScaledView = {
  select: PRIVILEGE_KEYS.join(", "),
  schemaColumn: "namespace_name",
  tableColumn: "relation_name",
  from: "svv_relation_privileges",
  keys: PRIVILEGE_KEYS,
  keyExpressions: PRIVILEGE_KEYS,
};

const COLUMN_PRIVILEGE_KEYS = ["namespace_name", "relation_name", "column_name", "privilege_type", "identity_type", "identity_name"];
const COLUMN_PRIVILEGES: ScaledView = {
  select: COLUMN_PRIVILEGE_KEYS.join(", "),
  schemaColumn: "namespace_name",
  tableColumn: "relation_name",
  from: "svv_column_privileges",
  keys: COLUMN_PRIVILEGE_KEYS,
  keyExpressions: COLUMN_PRIVILEGE_KEYS,
};

/** The columns of the current database's own tables: external (Spectrum) tables are left out, nothing is granted on them. */
const COLUMNS_OF_THIS_DATABASE =
  "table_catalog = current_database() AND table_schema !~ '^pg_' AND table_schema NOT IN ('information_schema', 'catalog_history')" +
  " AND table_schema NOT IN (SELECT schemaname FROM svv_external_schemas)";

export function redshiftInventoryQueries(request: InventoryRequest): RedshiftInventoryQueries {
  const scopes = schemaScopes(request);
  const identities = identityConditions(request);
  const reads = (view: ScaledView, conditions: readonly string[]): TableScaleRead[] =>
    request.onlyTables === undefined
      ? conditions.flatMap((condition) => scopes(view.schemaColumn).map((scope) => chunkedRead(view, `${scope} AND ${condition}`)))
      : conditions.flatMap((condition) => tableReads(request, view, condition));
  return {
    schemas: scopes("nspname").map((scope) => `SELECT nspname AS schema_name FROM pg_namespace WHERE ${SYSTEM_SCHEMAS} AND ${scope}`),
    externalSchemas: "SELECT schemaname AS schema_name FROM svv_external_schemas",
    // PG_GET_LATE_BINDING_VIEW_COLS: a row per column of every late-binding view (its documented table form).
    lateBindingViews:
      "SELECT DISTINCT view_schema AS schema_name, view_name AS table_name FROM pg_get_late_binding_view_cols()" +
      " cols(view_schema name, view_name name, col_name name, col_type varchar, col_num int)",
    grantees: "SELECT 'group' AS kind, groname AS name FROM pg_group UNION ALL SELECT 'role' AS kind, role_name AS name FROM svv_roles",
    schemaPrivileges: identities.flatMap((who) =>
      scopes("namespace_name").map((scope) => `SELECT namespace_name, privilege_type, identity_type, identity_name FROM svv_schema_privileges WHERE ${scope} AND ${who}`),
    ),
    columns: reads(COLUMNS, [COLUMNS_OF_THIS_DATABASE]),
    relationPrivileges: reads(RELATION_PRIVILEGES, identities),
    columnPrivileges: reads(COLUMN_PRIVILEGES, identities),
  };
}

/** The excluded schemas left out (they are few: the state schema). */
function excludedSchemas(request: InventoryRequest, column: string): string {
  return request.excludeSchemas.length === 0 ? "TRUE" : literalChunks(request.excludeSchemas, "redshift").map((list) => `${column} NOT IN (${list})`).join(" AND ");
}

/** The schema conditions of a request: the excluded ones left out, an incremental run's listed ones only (chunked: the list may be long). */
function schemaScopes(request: InventoryRequest): (column: string) => string[] {
  return (column) => {
    const only = request.onlySchemas;
    if (only === undefined) return [excludedSchemas(request, column)];
    return literalChunks(only, "redshift").map((list) => `${excludedSchemas(request, column)} AND ${column} IN (${list})`);
  };
}

function chunkedRead(view: ScaledView, condition: string): ChunkedRead {
  const base = `SELECT ${view.select} FROM ${view.from} WHERE ${condition}`;
  return {
    census: `SELECT ${view.schemaColumn} AS schema_name, COUNT(*) AS row_count FROM ${view.from} WHERE ${condition} GROUP BY ${view.schemaColumn}`,
    chunk: (schemas) =>
      schemas.length === 1
        ? // One schema: its name is fixed, so the keys start at the table (which the view can filter on).
          { select: `${base} AND ${view.schemaColumn} = ${quoteLiteral(schemas[0]!, "redshift")}`, keys: view.keys.slice(1), keyExpressions: view.keyExpressions.slice(1) }
        : { select: `${base} AND ${view.schemaColumn} IN (${schemas.map((s) => quoteLiteral(s, "redshift")).join(", ")})`, keys: view.keys, keyExpressions: view.keyExpressions },
  };
}

/** onlyTables: one read per schema and chunk of its table names, keyed from the table on. */
function tableReads(request: InventoryRequest, view: ScaledView, condition: string): KeysetQuery[] {
  const excluded = excludedSchemas(request, view.schemaColumn);
  const bySchema = new Map<string, Set<string>>();
  for (const { schema, table } of request.onlyTables ?? []) bySchema.set(schema, (bySchema.get(schema) ?? new Set()).add(table));
  return [...bySchema.keys()].sort(compareStrings).flatMap((schema) =>
    literalChunks([...bySchema.get(schema)!].sort(compareStrings), "redshift").map((list) => ({
      select:
        `SELECT ${view.select} FROM ${view.from} WHERE ${excluded} AND ${view.schemaColumn} = ${quoteLiteral(schema, "redshift")}` +
        ` AND ${view.tableColumn} IN (${list}) AND ${condition}`,
      keys: view.keys.slice(1),
      keyExpressions: view.keyExpressions.slice(1),
    })),
  );
}

/** One condition per chunk of the asked grantees, by identity type (empty when none is asked about). */
function identityConditions(request: InventoryRequest): string[] {
  const names = (kind: GranteeKind): string[] => [...new Set(request.grantees.filter((g) => g.kind === kind).map((g) => g.name))].sort(compareStrings);
  return (["group", "role"] as const).flatMap((kind) => literalChunks(names(kind), "redshift").map((list) => `identity_type = '${kind}' AND identity_name IN (${list})`));
}
