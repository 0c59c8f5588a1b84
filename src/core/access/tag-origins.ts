import type { ColumnEntry, DatabaseEntry, TableEntry, TagMap } from "../../catalog/model.js";

/** Where an effective LF-tag value comes from: LF inherits database -> table -> column, key by key (aws-facts §1.2). */
export type TagLevel = "database" | "table" | "column";

export interface TagOrigin {
  readonly key: string;
  readonly value: string;
  readonly level: TagLevel;
  /** The column whose assignment it is (level "column" only). */
  readonly column?: string;
}

function overlay(into: Map<string, TagOrigin>, tags: TagMap, level: TagLevel, column?: string): void {
  for (const [key, value] of Object.entries(tags)) {
    into.set(key, column === undefined ? { key, value, level } : { key, value, level, column });
  }
}

/** A table's effective tags, each with the level that assigned it; keys sorted. */
export function tableTagOrigins(database: DatabaseEntry, table: TableEntry): TagOrigin[] {
  const origins = new Map<string, TagOrigin>();
  overlay(origins, database.tags, "database");
  overlay(origins, table.tags, "table");
  return sortedOrigins(origins);
}

/** A column's effective tags: the table's, overridden key by key by the column's own assignments. */
export function columnTagOrigins(database: DatabaseEntry, table: TableEntry, column: ColumnEntry): TagOrigin[] {
  const origins = new Map<string, TagOrigin>();
  overlay(origins, database.tags, "database");
  overlay(origins, table.tags, "table");
  overlay(origins, column.tags, "column", column.name);
  return sortedOrigins(origins);
}

/** The effective tags as a plain map (what an expression is evaluated against). */
export function tagValues(origins: readonly TagOrigin[]): TagMap {
  return Object.fromEntries(origins.map((o) => [o.key, o.value]));
}

/** `access=public (database)`, `pii=true (column email)`. */
export function describeOrigin(origin: TagOrigin): string {
  const where = origin.level === "column" ? `column ${origin.column ?? ""}` : origin.level;
  return `${origin.key}=${origin.value} (${where})`;
}

function sortedOrigins(origins: Map<string, TagOrigin>): TagOrigin[] {
  return [...origins.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
