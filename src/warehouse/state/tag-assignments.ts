import type { CatalogSnapshot, TagMap } from "../../catalog/model.js";
import { compareStrings, type Dialect } from "../../core/grants.js";
import { quoteIdent, quoteNullable } from "../../core/sql.js";
import { boundedStatements, DEFAULT_MAX_STATEMENT_BYTES, timestampLiteral } from "./sql.js";

/**
 * Replaces the recorded tag assignments with the snapshot's assigned (not inherited) tags of
 * databases, tables and columns: one DELETE, then bounded multi-row INSERTs.
 */
export function renderTagAssignmentStatements(
  dialect: Dialect,
  stateSchema: string,
  snapshot: CatalogSnapshot,
  runId: string,
  at: Date,
  maxStatementBytes = DEFAULT_MAX_STATEMENT_BYTES,
): string[] {
  const literal = (value: string | null): string => quoteNullable(value, dialect);
  const tail = `${literal(runId)}, ${timestampLiteral(at, dialect)})`;
  const rows: string[] = [];
  const add = (kind: string, database: string, table: string | null, column: string | null, tags: TagMap): void => {
    for (const key of Object.keys(tags).sort(compareStrings)) {
      rows.push(`(${[kind, database, table, column, key, tags[key] ?? ""].map(literal).join(", ")}, ${tail}`);
    }
  };
  for (const database of snapshot.databases) {
    add("database", database.name, null, null, database.tags);
    for (const table of database.tables) {
      add("table", database.name, table.name, null, table.tags);
      for (const column of table.columns) add("column", database.name, table.name, column.name, column.tags);
    }
  }
  const target = `${quoteIdent(stateSchema)}.tag_assignments`;
  return [
    `DELETE FROM ${target}`,
    ...boundedStatements(
      `INSERT INTO ${target} (resource_kind, database_name, table_name, column_name, tag_key, tag_value, run_id, seen_at) VALUES `,
      rows,
      "",
      maxStatementBytes,
    ),
  ];
}
