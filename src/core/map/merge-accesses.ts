import { type Entitlements, LF_TABLE_PERMISSIONS, type PrincipalTableAccess } from "../resolve/entitlements.js";

const SELECT = LF_TABLE_PERMISSIONS.indexOf("SELECT");

/** The union of several principals' access (they map to one grantee), ascending by group id. */
export function mergeAccesses(accesses: readonly PrincipalTableAccess[], entitlements: Entitlements): PrincipalTableAccess {
  const { policySets, columnSets } = entitlements;
  const byGroup = new Map<number, { full: number[]; columnSet: number; columnBecause: number }>();
  for (const access of accesses) {
    access.groups.forEach((group, i) => {
      let entry = byGroup.get(group);
      if (entry === undefined) byGroup.set(group, (entry = { full: LF_TABLE_PERMISSIONS.map(() => 0), columnSet: 0, columnBecause: 0 }));
      entry.full.forEach((set, k) => (entry!.full[k] = policySets.union(set, access.full[k]![i]!)));
      entry.columnSet = columnSets.union(entry.columnSet, access.columnSets[i]!);
      entry.columnBecause = policySets.union(entry.columnBecause, access.columnBecause[i]!);
    });
  }
  const ids = Int32Array.from(byGroup.keys()).sort();
  const entries = [...ids].map((id) => byGroup.get(id)!);
  return {
    principal: accesses[0]!.principal,
    groups: ids,
    full: LF_TABLE_PERMISSIONS.map((_, k) => Int32Array.from(entries, (e) => e.full[k]!)),
    // SELECT at table level for one principal makes the others' column-level SELECT moot.
    columnSets: Int32Array.from(entries, (e) => (e.full[SELECT] === 0 ? e.columnSet : 0)),
    columnBecause: Int32Array.from(entries, (e) => (e.full[SELECT] === 0 ? e.columnBecause : 0)),
  };
}
