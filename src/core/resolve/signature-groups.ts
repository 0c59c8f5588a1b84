import type { CatalogSnapshot } from "../../catalog/model.js";
import { TagSetInterner } from "../tags.js";
import type { ResolvedTable, SignatureGroup } from "./entitlements.js";

export interface CatalogTables {
  readonly interner: TagSetInterner;
  /** Per database (catalog order): the tag-set id of its tags. */
  readonly databaseSetIds: readonly number[];
  readonly tables: readonly ResolvedTable[];
  readonly groups: readonly SignatureGroup[];
}

/**
 * Every table with its columns' effective tag sets (LF: a column inherits its table's tags, a
 * table its database's, unless assigned; aws-facts §1.2), grouped by signature: the distinct tag
 * sets of its columns.
 */
export function signatureGroups(snapshot: CatalogSnapshot): CatalogTables {
  const interner = new TagSetInterner();
  const databaseSetIds: number[] = [];
  const tables: ResolvedTable[] = [];
  const groupsBySignature = new Map<string, { setIds: readonly number[]; tableIds: number[] }>();
  for (const db of snapshot.databases) {
    const databaseSetId = interner.intern(db.tags);
    databaseSetIds.push(databaseSetId);
    for (const table of db.tables) {
      const tableSetId = interner.internChild(databaseSetId, table.tags);
      const columns = table.columns;
      const columnSetIds = new Int32Array(Math.max(columns.length, 1));
      if (columns.length === 0) {
        columnSetIds[0] = tableSetId;
      } else {
        for (let i = 0; i < columns.length; i++) columnSetIds[i] = interner.internChild(tableSetId, columns[i]!.tags);
      }
      const setIds = [...new Set(columnSetIds)].sort((a, b) => a - b);
      const signature = setIds.join(",");
      let group = groupsBySignature.get(signature);
      if (group === undefined) groupsBySignature.set(signature, (group = { setIds, tableIds: [] }));
      group.tableIds.push(tables.length);
      tables.push({ database: db.name, table: table.name, columnNames: columns.map((c) => c.name), columnSetIds });
    }
  }
  const groups = [...groupsBySignature.values()].map((g) => ({ setIds: g.setIds, tableIds: Int32Array.from(g.tableIds) }));
  return { interner, databaseSetIds, tables, groups };
}
