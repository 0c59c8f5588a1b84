import {
  SCHEMA_PRIVILEGES,
  TABLE_PRIVILEGES,
  compareStrings,
  grantSlotKey,
  granteeKey,
  tableKey,
  type Grant,
  type Grantee,
  type GranteeKind,
  type ObjectRef,
  type Privilege,
} from "../core/grants.js";
import { SyncError } from "../errors.js";
import { forEachKeysetPage, PAGE_ROWS, schemaChunks } from "./bounded-reads.js";
import type { Row, SqlExecutor } from "./executor.js";
import type { InventoryRequest, TargetInventory } from "./inventory-model.js";
import { isChunkedRead, redshiftInventoryQueries, type TableScaleRead } from "./inventory-redshift-sql.js";

export { redshiftInventoryQueries, type RedshiftInventoryQueries } from "./inventory-redshift-sql.js";

/**
 * Inventory of a Redshift database in a few set-based queries (DESIGN §6; the SQL and how it stays
 * bounded: inventory-redshift-sql.ts). The reads that grow with the catalog are folded into the
 * inventory a page at a time: at 100k tables the column privileges alone are millions of rows, and
 * holding them as rows would take gigabytes where the grants they describe take a fraction.
 */
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
  const fold = inventoryFold();
  const [schemas, externalSchemas, lateBindingViews, grantees, schemaPrivileges] = await Promise.all([
    all(sql.schemas),
    executor.query(sql.externalSchemas),
    executor.query(sql.lateBindingViews),
    executor.query(sql.grantees),
    all(sql.schemaPrivileges),
    readScaled(executor, sql.columns, pageRows, fold.columns),
    readScaled(executor, sql.relationPrivileges, pageRows, fold.relationPrivileges),
    readScaled(executor, sql.columnPrivileges, pageRows, fold.columnPrivileges),
  ]);
  return fold.finish({ schemas, grantees, schemaPrivileges, externalSchemas, lateBindingViews });
}

/** Each read in turn: a chunked one by its census, then chunk by chunk; every page handed to `onPage`. */
async function readScaled(executor: SqlExecutor, reads: readonly TableScaleRead[], pageRows: number, onPage: (rows: readonly Row[]) => void): Promise<void> {
  for (const read of reads) {
    if (!isChunkedRead(read)) {
      await forEachKeysetPage(executor, read, pageRows, onPage);
      continue;
    }
    const census = (await executor.query(read.census)).map((row) => ({ schema: text(row, "schema_name"), rows: count(row, "row_count") }));
    for (const schemas of schemaChunks(census, executor.dialect, pageRows)) await forEachKeysetPage(executor, read.chunk(schemas), pageRows, onPage);
  }
}

/** Pure: rows of the queries above -> the inventory. Privileges the model has no name for are left out. */
export function inventoryFromRedshiftRows(rows: RedshiftInventoryRows): TargetInventory {
  const fold = inventoryFold();
  fold.columns(rows.columns);
  fold.relationPrivileges(rows.relationPrivileges);
  fold.columnPrivileges(rows.columnPrivileges);
  return fold.finish(rows);
}

type SmallRows = Pick<RedshiftInventoryRows, "schemas" | "grantees" | "schemaPrivileges" | "externalSchemas" | "lateBindingViews">;

/**
 * The inventory built row by row. Names are interned and a table's whole-table object is shared by
 * its grants. A column grant gathers its columns while its table's rows arrive (a read orders them
 * by table, so a table's rows come together) and becomes a Grant when the next table starts.
 */
function inventoryFold() {
  const names = new Map<string, string>();
  const name = (value: string): string => names.get(value) ?? (names.set(value, value), value);
  const grantees = new Map<string, Grantee>();
  const tables = new Map<string, Set<string>>();
  const wholeTables = new Map<string, ObjectRef>();
  const held: Grant[] = [];
  const columnGrants = columnGrantFold(name, held);

  const granteeOf = (row: Row): Grantee | null => {
    const kind = granteeKind(row.identity_type);
    if (kind === null) return null;
    const key = granteeKey({ kind, name: text(row, "identity_name") });
    return grantees.get(key) ?? (grantees.set(key, { kind, name: name(text(row, "identity_name")) }), grantees.get(key)!);
  };
  return {
    columns(rows: readonly Row[]): void {
      for (const row of rows) {
        const key = tableKey(text(row, "schema_name"), text(row, "table_name"));
        let columns = tables.get(key);
        if (columns === undefined) tables.set(key, (columns = new Set()));
        columns.add(name(text(row, "column_name")));
      }
    },
    relationPrivileges(rows: readonly Row[]): void {
      for (const row of rows) {
        const grantee = granteeOf(row);
        const privilege = privilegeOf(row, TABLE_PRIVILEGES);
        if (grantee === null || privilege === null) continue;
        const [schema, table] = [text(row, "namespace_name"), text(row, "relation_name")];
        const key = tableKey(schema, table);
        let object = wholeTables.get(key);
        if (object === undefined) wholeTables.set(key, (object = { schema: name(schema), table: name(table), columns: null }));
        held.push({ grantee, privilege, object });
      }
    },
    columnPrivileges(rows: readonly Row[]): void {
      for (const row of rows) {
        const grantee = granteeOf(row);
        const privilege = privilegeOf(row, TABLE_PRIVILEGES);
        if (grantee !== null && privilege !== null) columnGrants.add(grantee, privilege, text(row, "namespace_name"), text(row, "relation_name"), text(row, "column_name"));
      }
    },
    finish(rows: SmallRows): TargetInventory {
      columnGrants.finish();
      return finishInventory(rows, { tables, held, granteeOf });
    },
  };
}

/**
 * Column grants of the table being read, one per grantee x privilege, with their column lists
 * shared. A table whose rows come back after another table's (never in key order, but a collation
 * could) is merged once all is read.
 */
function columnGrantFold(name: (value: string) => string, held: Grant[]) {
  let table: string | null = null;
  let current = new Map<string, { grantee: Grantee; privilege: Privilege; schema: string; table: string; columns: string[] }>();
  const read = new Set<string>();
  let readAgain = false;
  const lists = new Map<string, readonly string[]>();
  const list = (columns: readonly string[]): readonly string[] => {
    const sorted = [...new Set(columns)].sort(compareStrings);
    const key = sorted.join("\u0000");
    return lists.get(key) ?? (lists.set(key, sorted), sorted);
  };
  const flush = (): void => {
    for (const e of current.values()) held.push({ grantee: e.grantee, privilege: e.privilege, object: { schema: e.schema, table: e.table, columns: list(e.columns) } });
    current = new Map();
  };
  return {
    add(grantee: Grantee, privilege: Privilege, schema: string, relation: string, column: string): void {
      const key = tableKey(schema, relation);
      if (key !== table) {
        flush();
        readAgain ||= read.has(key);
        read.add(key);
        table = key;
      }
      const slot = `${granteeKey(grantee)}\u0000${privilege}`;
      const entry = current.get(slot);
      if (entry === undefined) current.set(slot, { grantee, privilege, schema: name(schema), table: name(relation), columns: [name(column)] });
      else entry.columns.push(name(column));
    },
    finish(): void {
      flush();
      if (!readAgain) return;
      const merged = new Map<string, Grant>();
      const rest = held.filter((grant) => {
        if (grant.object.columns === null) return true;
        const earlier = merged.get(grantSlotKey(grant));
        const columns = list([...(earlier?.object.columns ?? []), ...grant.object.columns]);
        merged.set(grantSlotKey(grant), { ...grant, object: { ...grant.object, columns } });
        return false;
      });
      held.length = 0;
      for (const grant of [...rest, ...merged.values()]) held.push(grant);
    },
  };
}

function finishInventory(rows: SmallRows, built: { tables: Map<string, Set<string>>; held: Grant[]; granteeOf: (row: Row) => Grantee | null }): TargetInventory {
  const { tables, held, granteeOf } = built;
  const grantees = new Set<string>();
  for (const row of rows.grantees) {
    const kind = granteeKind(row.kind);
    if (kind !== null) grantees.add(granteeKey({ kind, name: text(row, "name") }));
  }
  for (const row of rows.schemaPrivileges) {
    const grantee = granteeOf(row);
    const privilege = privilegeOf(row, SCHEMA_PRIVILEGES);
    if (grantee !== null && privilege !== null) {
      held.push({ grantee, privilege, object: { schema: text(row, "namespace_name"), table: null, columns: null } });
    }
  }
  held.sort(compareGrants);
  return {
    schemas: new Set(rows.schemas.map((r) => text(r, "schema_name"))),
    tables,
    grantees,
    held,
    externalSchemas: new Set((rows.externalSchemas ?? []).map((r) => text(r, "schema_name"))),
    lateBindingViews: new Set((rows.lateBindingViews ?? []).map((r) => tableKey(text(r, "schema_name"), text(r, "table_name")))),
  };
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


function privilegeOf<P extends Privilege>(row: Row, known: readonly P[]): P | null {
  const privilege = text(row, "privilege_type").toUpperCase();
  return (known as readonly string[]).includes(privilege) ? (privilege as P) : null;
}

function count(row: Row, column: string): number {
  const value = Number(row[column]);
  if (!Number.isSafeInteger(value) || value < 0) throw new SyncError("TARGET_FAILED", `inventory census returned ${JSON.stringify(row[column])} for ${column}`);
  return value;
}
