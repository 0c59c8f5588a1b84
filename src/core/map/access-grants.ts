import type { Dialect, TablePrivilege } from "../grants.js";
import type { IntSets } from "../resolve/int-sets.js";
import { LF_TABLE_PERMISSIONS, type LfTablePermission } from "../resolve/entitlements.js";

/** LF table permission -> target privileges. */
export type PrivilegeMap = Readonly<Record<LfTablePermission, readonly TablePrivilege[]>>;

/** LF table permission -> target privileges, per dialect (DESIGN §3). PostgreSQL has no DROP privilege. */
export const DEFAULT_PRIVILEGES: Record<Dialect, PrivilegeMap> = {
  redshift: { SELECT: ["SELECT"], INSERT: ["INSERT"], DELETE: ["DELETE"], DROP: ["DROP"], ALTER: [], DESCRIBE: [] },
  postgres: { SELECT: ["SELECT"], INSERT: ["INSERT"], DELETE: ["DELETE"], DROP: [], ALTER: [], DESCRIBE: [] },
};

/** What a grantee holds on every table of one signature group; numbers are policy-set ids (0: none). */
export interface GroupGrants {
  /** Table-level privileges, each with the policies behind it. */
  readonly tableLevel: readonly { readonly privilege: TablePrivilege; readonly because: number }[];
  /** The policies behind SELECT on the group's column set (0: no column-level SELECT). */
  readonly columnSelect: number;
  /** The policies behind the schema's USAGE from the table-level privileges alone... */
  readonly usage: number;
  /** ...and with the column-level SELECT, on a table where its column list is not empty. */
  readonly usageWithColumns: number;
}

const SELECT = LF_TABLE_PERMISSIONS.indexOf("SELECT");

/**
 * One grantee's access on one signature group -> its grants (DESIGN §3):
 * - each LF permission held at table level -> the privileges it maps to, each explained by every
 *   policy behind any permission that maps to it (ALTER and DESCRIBE map to nothing by default);
 * - SELECT on the matching columns only when SELECT is not held at table level;
 * - any table or column privilege implies USAGE on the schema, explained by the same policies.
 * `full` holds, per LF permission (LF_TABLE_PERMISSIONS order), the policy set behind it.
 */
export function accessGrants(full: ArrayLike<number>, columnBecause: number, privileges: PrivilegeMap, sets: IntSets): GroupGrants {
  const because = new Map<TablePrivilege, number>();
  let usage = 0;
  for (let k = 0; k < LF_TABLE_PERMISSIONS.length; k++) {
    const set = full[k]!;
    if (set === 0) continue;
    for (const privilege of privileges[LF_TABLE_PERMISSIONS[k]!]) {
      because.set(privilege, sets.union(because.get(privilege) ?? 0, set));
      usage = sets.union(usage, set);
    }
  }
  const columnSelect = full[SELECT] === 0 ? columnBecause : 0;
  return {
    tableLevel: [...because].map(([privilege, set]) => ({ privilege, because: set })),
    columnSelect,
    usage,
    usageWithColumns: sets.union(usage, columnSelect),
  };
}
