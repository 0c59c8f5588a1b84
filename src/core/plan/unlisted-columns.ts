import type { CatalogSnapshot } from "../../catalog/model.js";
import type { MappingConfig } from "../../config/schema.js";
import { type Diagnostic, warning } from "../diagnostics.js";
import { GrantColumns, type GrantRegistry, PRIVILEGE_ID } from "../grant-columns.js";
import { compareStrings, type Dialect, tableKey } from "../grants.js";
import type { InventoryLike } from "../inventory-view.js";
import { foldIdentifier, schemaMapper } from "../map.js";

/** The columns the catalog lists for each target table: tableKey(schema, table) -> column names, as mapped. */
export function listedColumns(snapshot: CatalogSnapshot, mapping: MappingConfig, dialect: Dialect): Map<string, ReadonlySet<string>> {
  const schemaOf = schemaMapper(mapping);
  const listed = new Map<string, ReadonlySet<string>>();
  for (const db of snapshot.databases) {
    const mapped = schemaOf(db.name);
    const schema = mapped === null ? null : foldIdentifier(mapped, dialect);
    if (schema === null) continue;
    for (const t of db.tables) {
      const table = foldIdentifier(t.name, dialect);
      if (table !== null) listed.set(tableKey(schema, table), new Set(t.columns.map((c) => foldIdentifier(c.name, dialect) ?? c.name)));
    }
  }
  return listed;
}

/**
 * Never grant a whole table whose target holds columns the catalog does not list (issue 13 item 3):
 * Lake Formation never saw those columns, so it cannot have allowed them. A whole-table SELECT
 * becomes SELECT on the listed columns that exist; other table privileges (INSERT, DELETE, DROP,
 * ...) are dropped, as for any column subset (DESIGN §2). Each such table is reported.
 */
export function narrowToListedColumns(
  desired: GrantColumns,
  registry: GrantRegistry,
  inventory: Pick<InventoryLike, "tables">,
  listed: ReadonlyMap<string, ReadonlySet<string>>,
): { readonly desired: GrantColumns; readonly diagnostics: readonly Diagnostic[] } {
  // Per object id: the listed columns to grant instead (a column-list id), or 0 when the table is fine.
  const narrowed = new Map<number, { readonly columns: number; readonly unlisted: readonly string[] }>();
  const narrowOf = (object: number) => {
    let found = narrowed.get(object);
    if (found === undefined) narrowed.set(object, (found = narrowing(registry, object, inventory, listed)));
    return found;
  };
  let kept: GrantColumns | null = null;
  for (let i = 0; i < desired.length; i++) {
    const object = desired.object[i]!;
    const change = desired.columns[i] === 0 && registry.objects[object]!.table !== null ? narrowOf(object) : NO_CHANGE;
    if (change !== NO_CHANGE && kept === null) {
      kept = new GrantColumns();
      for (let j = 0; j < i; j++) kept.push(desired.grantee[j]!, desired.privilege[j]!, desired.object[j]!, desired.columns[j]!, desired.because[j]!);
    }
    if (kept === null) continue;
    if (change === NO_CHANGE) kept.push(desired.grantee[i]!, desired.privilege[i]!, object, desired.columns[i]!, desired.because[i]!);
    else if (desired.privilege[i] === PRIVILEGE_ID.SELECT && change.columns !== 0) kept.push(desired.grantee[i]!, desired.privilege[i]!, object, change.columns, desired.because[i]!);
  }
  if (kept === null) return { desired, diagnostics: [] };
  const diagnostics = [...narrowed]
    .filter(([, n]) => n !== NO_CHANGE)
    .map(([object, n]) => {
      const o = registry.objects[object]!;
      return warning(
        `${o.schema}.${o.table}: the target has column(s) ${n.unlisted.join(", ")} that the catalog does not list; granted at column level on the listed columns only, other table privileges not granted`,
      );
    });
  return { desired: kept, diagnostics };
}

const NO_CHANGE = { columns: 0, unlisted: [] as readonly string[] };

function narrowing(registry: GrantRegistry, object: number, inventory: Pick<InventoryLike, "tables">, listed: ReadonlyMap<string, ReadonlySet<string>>) {
  const o = registry.objects[object]!;
  const key = tableKey(o.schema, o.table!);
  const present = inventory.tables.get(key);
  const known = listed.get(key);
  if (present === undefined || known === undefined) return NO_CHANGE;
  const unlisted = [...present].filter((c) => !known.has(c)).sort(compareStrings);
  if (unlisted.length === 0) return NO_CHANGE;
  const granted = [...present].filter((c) => known.has(c)).sort(compareStrings);
  return { columns: granted.length === 0 ? 0 : registry.columnsId(granted), unlisted };
}
