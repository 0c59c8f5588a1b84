import type { CatalogSnapshot, DatabaseEntry, Expression, PolicyEntry, TableEntry, TagMap } from "../../catalog/model.js";
import { compareStrings } from "../grants.js";

/**
 * What a re-read of the one resource an event names returned (DESIGN §1: the source reads, the core
 * patches). `table: null` means Glue no longer lists the table.
 */
export type CatalogPatch =
  | { readonly kind: "table"; readonly database: string; readonly name: string; readonly table: TableEntry | null }
  | { readonly kind: "databaseTags"; readonly database: string; readonly tags: TagMap }
  | {
      readonly kind: "policies";
      readonly policies: readonly PolicyEntry[];
      readonly expressions: Readonly<Record<string, Expression>>;
    }
  | { readonly kind: "tagOntology"; readonly tags: Readonly<Record<string, readonly string[]>> };

/**
 * The snapshot a full read would return after the change: the patched resource replaced, everything
 * else shared with `snapshot` (never mutated). Tables stay sorted by name, as the sources return them.
 * Returns null when the patch names a database the snapshot does not know (its reach is unknown).
 */
export function patchSnapshot(snapshot: CatalogSnapshot, patch: CatalogPatch): CatalogSnapshot | null {
  switch (patch.kind) {
    case "table":
      return replaceDatabase(snapshot, patch.database, (db) => ({ ...db, tables: withTable(db.tables, patch.name, patch.table) }));
    case "databaseTags":
      return replaceDatabase(snapshot, patch.database, (db) => ({ ...db, tags: patch.tags }));
    case "policies":
      return { ...snapshot, policies: patch.policies, expressions: patch.expressions };
    case "tagOntology":
      return { ...snapshot, tags: patch.tags };
  }
}

function replaceDatabase(snapshot: CatalogSnapshot, name: string, change: (db: DatabaseEntry) => DatabaseEntry): CatalogSnapshot | null {
  const index = snapshot.databases.findIndex((db) => db.name === name);
  if (index < 0) return null;
  const databases = [...snapshot.databases];
  databases[index] = change(databases[index]!);
  return { ...snapshot, databases };
}

function withTable(tables: readonly TableEntry[], name: string, table: TableEntry | null): TableEntry[] {
  const kept = tables.filter((t) => t.name !== name);
  if (table === null) return kept;
  const at = kept.findIndex((t) => compareStrings(t.name, name) > 0);
  kept.splice(at < 0 ? kept.length : at, 0, { ...table, name });
  return kept;
}
