import type { Diagnostic } from "../diagnostics.js";
import type { PolicyRef } from "../policy-ref.js";
import type { IntSets } from "./int-sets.js";

/** Lake Formation permissions a TABLE tag policy can carry (aws-facts §1.4). */
export const LF_TABLE_PERMISSIONS = ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"] as const;
/** Lake Formation permissions a DATABASE tag policy can carry. */
export const LF_DATABASE_PERMISSIONS = ["DESCRIBE", "CREATE_TABLE", "ALTER", "DROP"] as const;
export type LfTablePermission = (typeof LF_TABLE_PERMISSIONS)[number];
export type LfDatabasePermission = (typeof LF_DATABASE_PERMISSIONS)[number];

/** A table of the catalog, by its position in catalog order (its table id). */
export interface ResolvedTable {
  readonly database: string;
  readonly table: string;
  readonly columnNames: readonly string[];
  /** Tag-set id of each column (or of the table itself when it has no columns). */
  readonly columnSetIds: Int32Array;
}

/**
 * Tables whose columns use the same distinct tag sets (their signature) evaluate identically for
 * every expression, so Lake Formation gives a principal the same access on all of them.
 */
export interface SignatureGroup {
  /** The distinct tag-set ids of the tables' columns, ascending. */
  readonly setIds: readonly number[];
  /** Table ids, ascending. */
  readonly tableIds: Int32Array;
}

/**
 * What Lake Formation lets one principal do on the tables of each signature group, column-precise,
 * in columns of integers (DESIGN §6: the work is per group, never per table or grant). Entry i is
 * about group `groups[i]`; a set id 0 means "not held".
 */
export interface PrincipalTableAccess {
  readonly principal: string;
  /** Signature group ids, ascending. */
  readonly groups: Int32Array;
  /** Per LF table permission (LF_TABLE_PERMISSIONS order): the policy set behind it at table level (every column matched). */
  readonly full: readonly Int32Array[];
  /** Tag sets (a `columnSets` id) whose columns SELECT covers when it is not held at table level; 0: none. */
  readonly columnSets: Int32Array;
  /** The policy set behind that column-level SELECT. */
  readonly columnBecause: Int32Array;
}

export interface DatabaseEntitlement {
  readonly principal: string;
  readonly database: string;
  readonly permissions: ReadonlyMap<LfDatabasePermission, readonly number[]>;
}

export interface Entitlements {
  /** The catalog's own AWS account (the snapshot's catalogId), when the source knows it. */
  readonly catalogId: string | undefined;
  readonly databases: readonly DatabaseEntitlement[];
  /** Every database of the catalog, in catalog order, also one without tables (the mapper finds schema collisions with it). */
  readonly databaseNames: readonly string[];
  readonly tables: readonly ResolvedTable[];
  readonly groups: readonly SignatureGroup[];
  /** One entry per principal that holds anything on a table, in order of their first policy. */
  readonly principals: readonly PrincipalTableAccess[];
  /** Sets of policy indexes (`because`). */
  readonly policySets: IntSets;
  /** Sets of tag-set ids (column subsets). */
  readonly columnSets: IntSets;
  /** Per policy index (catalog order): the policy as a plan lists it; `because` refers to its id. */
  readonly policies: readonly PolicyRef[];
  readonly diagnostics: readonly Diagnostic[];
}

/** What Lake Formation lets one principal do on one table: the readable form of one access entry. */
export interface TableEntitlement {
  readonly principal: string;
  readonly database: string;
  readonly table: string;
  /** Table-level permissions (every column matched) -> policy indexes. */
  readonly full: ReadonlyMap<LfTablePermission, readonly number[]>;
  /** SELECT on a column subset (some columns matched), absent when SELECT is held at table level. */
  readonly columnSelect: { readonly columns: readonly string[]; readonly because: readonly number[] } | null;
}

/** Glue names of the columns of `table` whose tag set is in `columnSet`, in table order. */
export function columnsInSets(table: ResolvedTable, columnSet: readonly number[]): string[] {
  const names: string[] = [];
  for (let c = 0; c < table.columnNames.length; c++) {
    if (columnSet.includes(table.columnSetIds[c]!)) names.push(table.columnNames[c]!);
  }
  return names;
}

/** Every principal x table entry as an object: for tests, reports and debugging, not the hot path. */
export function tableEntitlements(entitlements: Entitlements): TableEntitlement[] {
  const result: TableEntitlement[] = [];
  for (const access of entitlements.principals) {
    const rows: { tableId: number; entry: TableEntitlement }[] = [];
    access.groups.forEach((group, i) => {
      const full = new Map<LfTablePermission, readonly number[]>();
      LF_TABLE_PERMISSIONS.forEach((permission, k) => {
        const set = access.full[k]![i]!;
        if (set !== 0) full.set(permission, entitlements.policySets.members(set));
      });
      const columnSet = access.columnSets[i]!;
      for (const tableId of entitlements.groups[group]!.tableIds) {
        const table = entitlements.tables[tableId]!;
        const columnSelect =
          columnSet === 0
            ? null
            : {
                columns: columnsInSets(table, entitlements.columnSets.members(columnSet)).sort(),
                because: entitlements.policySets.members(access.columnBecause[i]!),
              };
        rows.push({ tableId, entry: { principal: access.principal, database: table.database, table: table.table, full, columnSelect } });
      }
    });
    result.push(...rows.sort((a, b) => a.tableId - b.tableId).map((r) => r.entry));
  }
  return result;
}
