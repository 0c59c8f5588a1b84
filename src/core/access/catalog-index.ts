import type { CatalogSnapshot, DatabaseEntry, TableEntry } from "../../catalog/model.js";
import { tableKey } from "../grants.js";
import { columnTagOrigins, type TagOrigin, tableTagOrigins } from "./tag-origins.js";

/** How the mapping names a Glue table in the warehouse; null when the mapping skips it. */
export type WarehouseNameOf = (database: string, table: string) => { readonly schema: string; readonly table: string } | null;

export interface CatalogTable {
  readonly database: DatabaseEntry;
  readonly table: TableEntry;
}

/**
 * Warehouse object -> the Glue table it mirrors, so a report can say which tags (and from which
 * level) stand behind a grant on it. Built once per report; the mapping decides the names.
 */
export class CatalogIndex {
  readonly #byWarehouseName = new Map<string, CatalogTable[]>();
  readonly #schemas = new Map<string, DatabaseEntry[]>();

  constructor(snapshot: CatalogSnapshot, nameOf: WarehouseNameOf) {
    for (const database of snapshot.databases) {
      for (const table of database.tables) {
        const name = nameOf(database.name, table.name);
        if (name === null) continue;
        const key = tableKey(name.schema, name.table);
        const tables = this.#byWarehouseName.get(key);
        if (tables === undefined) this.#byWarehouseName.set(key, [{ database, table }]);
        else tables.push({ database, table });
        const databases = this.#schemas.get(name.schema);
        if (databases === undefined) this.#schemas.set(name.schema, [database]);
        else if (!databases.includes(database)) databases.push(database);
      }
    }
  }

  /**
   * The Glue table behind a warehouse table, if the catalog has exactly one: two that land on one
   * name (the mapper grants nothing there, src/core/map/table-objects.ts) have no tags of their own.
   */
  table(schema: string, table: string): CatalogTable | undefined {
    const tables = this.#byWarehouseName.get(tableKey(schema, table));
    return tables?.length === 1 ? tables[0] : undefined;
  }

  /** Every Glue table that lands on a warehouse table: more than one is a collision. */
  tablesAt(schema: string, table: string): readonly CatalogTable[] {
    return this.#byWarehouseName.get(tableKey(schema, table)) ?? [];
  }

  /** The Glue database behind a warehouse schema (known through its tables), if exactly one. */
  database(schema: string): DatabaseEntry | undefined {
    const databases = this.#schemas.get(schema);
    return databases?.length === 1 ? databases[0] : undefined;
  }

  /** Schemas the mapping manages: those that mirror a catalog database. */
  managedSchemas(): ReadonlySet<string> {
    return new Set(this.#schemas.keys());
  }

  /**
   * The tags behind a grant on (schema, table[, columns]): the table's effective tags with their
   * levels, plus the column-level assignments of the listed columns (which can override them).
   */
  tagsBehind(schema: string, table: string | null, columns: readonly string[] | null): TagOrigin[] {
    if (table === null) {
      const database = this.database(schema);
      return database === undefined ? [] : Object.entries(database.tags).map(([key, value]) => ({ key, value, level: "database" as const }));
    }
    const entry = this.table(schema, table);
    if (entry === undefined) return [];
    const origins = tableTagOrigins(entry.database, entry.table);
    if (columns === null) return origins;
    const wanted = new Set(columns);
    for (const column of entry.table.columns) {
      if (!wanted.has(column.name)) continue;
      for (const origin of columnTagOrigins(entry.database, entry.table, column)) {
        if (origin.level === "column") origins.push(origin);
      }
    }
    return origins;
  }
}
