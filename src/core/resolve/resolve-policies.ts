import type { CatalogSnapshot } from "../../catalog/model.js";
import type { Diagnostic } from "../diagnostics.js";
import { type DatabaseEntitlement, type Entitlements, LF_TABLE_PERMISSIONS, type LfDatabasePermission, type PrincipalTableAccess } from "./entitlements.js";
import { GroupAccessScratch } from "./group-access-scratch.js";
import { FULL, GroupMatcher, NONE } from "./group-matcher.js";
import { IntSets } from "./int-sets.js";
import { policyOnGroup } from "./lf-rules.js";
import { policyRef } from "./policy-refs.js";
import { type PreparedPolicy, preparePolicies } from "./prepare-policies.js";
import { signatureGroups } from "./signature-groups.js";

/**
 * Policies -> entitlements with exactly Lake Formation's semantics (DESIGN §2). Cost: one
 * expression evaluation per (distinct expression x distinct tag set), one subset test per
 * (distinct expression x table signature), then integer work per (policy x matched group): no
 * object, string or map entry per grant.
 */
export function resolvePolicies(snapshot: CatalogSnapshot): Entitlements {
  const diagnostics: Diagnostic[] = [];
  const { interner, databaseSetIds, tables, groups } = signatureGroups(snapshot);
  const prepared = preparePolicies(snapshot, diagnostics);
  const columnSets = new IntSets();
  const policySets = new IntSets();
  const matcher = new GroupMatcher(interner, groups, columnSets);
  const isDatabasePolicy = (p: PreparedPolicy): boolean => p.resourceType === "DATABASE";
  return {
    catalogId: snapshot.catalogId,
    databases: databaseEntitlements(snapshot, databaseSetIds, prepared.filter(isDatabasePolicy), matcher),
    databaseNames: snapshot.databases.map((db) => db.name),
    tables,
    groups,
    principals: tableAccess(prepared.filter((p) => !isDatabasePolicy(p)), groups.length, matcher, policySets, columnSets),
    policySets,
    columnSets,
    policies: snapshot.policies.map((p) => policyRef(p, snapshot.expressions)),
    diagnostics,
  };
}

/** DATABASE policies: per principal x database whose own tags match, each permission with its policies. */
function databaseEntitlements(snapshot: CatalogSnapshot, databaseSetIds: readonly number[], policies: readonly PreparedPolicy[], matcher: GroupMatcher): DatabaseEntitlement[] {
  const byKey = new Map<string, DatabaseEntitlement & { permissions: Map<LfDatabasePermission, number[]> }>();
  for (const policy of policies) {
    snapshot.databases.forEach((db, i) => {
      if (!matcher.matchesSet(policy.expression, databaseSetIds[i]!)) return;
      const key = JSON.stringify([policy.principal, db.name]);
      let entry = byKey.get(key);
      if (entry === undefined) byKey.set(key, (entry = { principal: policy.principal, database: db.name, permissions: new Map() }));
      for (const p of policy.databasePermissions) pushIndex(entry.permissions, p, policy.index);
    });
  }
  return [...byKey.values()];
}

/** TABLE policies: per principal (in order of its first policy), its access per signature group. */
function tableAccess(policies: readonly PreparedPolicy[], groupCount: number, matcher: GroupMatcher, policySets: IntSets, columnSets: IntSets): PrincipalTableAccess[] {
  const byPrincipal = new Map<string, PreparedPolicy[]>();
  for (const policy of policies) {
    const list = byPrincipal.get(policy.principal);
    if (list === undefined) byPrincipal.set(policy.principal, [policy]);
    else list.push(policy);
  }
  // Scratch columns indexed by group id, reused for every principal and reset by `take`.
  const scratch = new GroupAccessScratch(groupCount);
  const principals: PrincipalTableAccess[] = [];
  for (const [principal, list] of byPrincipal) {
    for (const policy of list) addPolicy(scratch, policy, matcher.matchGroups(policy.expression), policySets, columnSets);
    if (scratch.touchedCount > 0) principals.push(scratch.take(principal));
  }
  return principals;
}

/** One policy's access on every group, decided by `policyOnGroup` once per kind of match. */
function addPolicy(scratch: GroupAccessScratch, policy: PreparedPolicy, byGroup: Int32Array, policySets: IntSets, columnSets: IntSets): void {
  const onAll = permissionIndexes(policyOnGroup("all", policy.tablePermissions).tableLevel);
  const onSome = policyOnGroup("some", policy.tablePermissions);
  const onSomeIndexes = permissionIndexes(onSome.tableLevel);
  for (let g = 0; g < byGroup.length; g++) {
    const match = byGroup[g]!;
    if (match === NONE) continue;
    scratch.touch(g);
    const indexes = match === FULL ? onAll : onSomeIndexes;
    for (const k of indexes) scratch.full[k]![g] = policySets.with(scratch.full[k]![g]!, policy.index);
    if (match !== FULL && onSome.columnSelect) {
      scratch.columnSets[g] = columnSets.union(scratch.columnSets[g]!, match);
      scratch.columnBecause[g] = policySets.with(scratch.columnBecause[g]!, policy.index);
    }
  }
}

function permissionIndexes(permissions: readonly (typeof LF_TABLE_PERMISSIONS)[number][]): number[] {
  return permissions.map((p) => LF_TABLE_PERMISSIONS.indexOf(p));
}

function pushIndex<K>(map: Map<K, number[]>, key: K, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}
