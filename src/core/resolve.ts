import type { CatalogSnapshot, Expression, PolicyEntry } from "../catalog/model.js";
import { type Diagnostic, warning } from "./diagnostics.js";
import { describeExpression, matchesExpression, TagSetInterner } from "./tags.js";

/** Lake Formation permissions a TABLE tag policy can carry (aws-facts §1.4). */
export const LF_TABLE_PERMISSIONS = ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"] as const;
/** Lake Formation permissions a DATABASE tag policy can carry. */
export const LF_DATABASE_PERMISSIONS = ["DESCRIBE", "CREATE_TABLE", "ALTER", "DROP"] as const;
export type LfTablePermission = (typeof LF_TABLE_PERMISSIONS)[number];
export type LfDatabasePermission = (typeof LF_DATABASE_PERMISSIONS)[number];

const SELECT = LF_TABLE_PERMISSIONS.indexOf("SELECT");
const DESCRIBE = LF_TABLE_PERMISSIONS.indexOf("DESCRIBE");

/**
 * Sets of small non-negative integers, interned: id 0 is the empty set, and extending or joining
 * two sets is memoised. Used for the policies behind a grant (`because`: a few hundred distinct
 * sets for hundreds of thousands of grants) and for the tag sets whose columns a SELECT covers.
 */
export class IntSets {
  readonly #lists: (readonly number[])[] = [[]];
  readonly #ids = new Map<string, number>([["", 0]]);
  /** Per set id: member -> set ∪ {member}. Small-integer keys only: no heap numbers on the hot path. */
  readonly #extended: (Map<number, number> | undefined)[] = [];
  #recentMember = -1;
  #recentStamp = 0;
  #recentStampOf = new Int32Array(0);
  #recentResultOf = new Int32Array(0);
  /** Per smaller set id: larger set id -> union. */
  readonly #joined: (Map<number, number> | undefined)[] = [];

  get size(): number {
    return this.#lists.length;
  }

  /** The members of a set, ascending. */
  members(id: number): readonly number[] {
    return this.#lists[id]!;
  }

  /** Interns an ascending list of distinct members. */
  intern(sorted: readonly number[]): number {
    const key = sorted.join(",");
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#lists.length;
      this.#lists.push(sorted);
      this.#ids.set(key, id);
    }
    return id;
  }

  /** set ∪ {member}. Callers add one member to many sets in a row: the last member's results are kept in arrays. */
  with(id: number, member: number): number {
    if (member !== this.#recentMember) {
      this.#recentMember = member;
      this.#recentStamp++;
    }
    if (id < this.#recentStampOf.length && this.#recentStampOf[id] === this.#recentStamp) return this.#recentResultOf[id]!;
    const result = this.#withMember(id, member);
    if (id >= this.#recentStampOf.length) this.#growRecent(id);
    this.#recentStampOf[id] = this.#recentStamp;
    this.#recentResultOf[id] = result;
    return result;
  }

  #growRecent(id: number): void {
    const size = Math.max(id + 1, this.#recentStampOf.length * 2, 64);
    const stamps = new Int32Array(size);
    stamps.set(this.#recentStampOf);
    const results = new Int32Array(size);
    results.set(this.#recentResultOf);
    this.#recentStampOf = stamps;
    this.#recentResultOf = results;
  }

  #withMember(id: number, member: number): number {
    let byMember = this.#extended[id];
    if (byMember === undefined) this.#extended[id] = byMember = new Map();
    let result = byMember.get(member);
    if (result === undefined) {
      const list = this.#lists[id]!;
      result = list.includes(member) ? id : this.intern([...list, member].sort((a, b) => a - b));
      byMember.set(member, result);
    }
    return result;
  }

  /** a ∪ b. */
  union(a: number, b: number): number {
    if (a === b || b === 0) return a;
    if (a === 0) return b;
    const low = a < b ? a : b;
    const high = a < b ? b : a;
    let byHigh = this.#joined[low];
    if (byHigh === undefined) this.#joined[low] = byHigh = new Map();
    let result = byHigh.get(high);
    if (result === undefined) {
      result = this.intern([...new Set([...this.#lists[a]!, ...this.#lists[b]!])].sort((x, y) => x - y));
      byHigh.set(high, result);
    }
    return result;
  }
}

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
  readonly databases: readonly DatabaseEntitlement[];
  readonly tables: readonly ResolvedTable[];
  readonly groups: readonly SignatureGroup[];
  /** One entry per principal that holds anything on a table, in order of their first policy. */
  readonly principals: readonly PrincipalTableAccess[];
  /** Sets of policy indexes (`because`). */
  readonly policySets: IntSets;
  /** Sets of tag-set ids (column subsets). */
  readonly columnSets: IntSets;
  /** `policy#3 access in (public)` per policy index, for `because`. */
  readonly policyLabels: readonly string[];
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

/** How an expression matches a signature group: NONE, FULL, or the `columnSets` id of the matching tag sets. */
const NONE = -1;
const FULL = -2;

/**
 * Policies -> entitlements with exactly Lake Formation's semantics (DESIGN §2). Cost: one
 * expression evaluation per (distinct expression x distinct tag set), one subset test per
 * (distinct expression x table signature), then integer work per (policy x matched table): no
 * object, string or map entry per grant.
 */
export function resolvePolicies(snapshot: CatalogSnapshot): Entitlements {
  const diagnostics: Diagnostic[] = [];
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
  const groups: SignatureGroup[] = [...groupsBySignature.values()].map((g) => ({ setIds: g.setIds, tableIds: Int32Array.from(g.tableIds) }));

  const prepared = preparePolicies(snapshot, diagnostics);
  const columnSets = new IntSets();
  const policySets = new IntSets();
  const setMatches = new Map<string, Int8Array>();
  const matches = (expr: PreparedExpression, setId: number): boolean => {
    let cache = setMatches.get(expr.key);
    if (cache === undefined) setMatches.set(expr.key, (cache = new Int8Array(interner.sets.length)));
    if (cache[setId] === 0) cache[setId] = matchesExpression(expr.expression, interner.sets[setId]!) ? 1 : 2;
    return cache[setId] === 1;
  };
  // Per distinct expression, how it matches each signature group (NONE, FULL or a column set).
  const groupMatches = new Map<string, Int32Array>();
  const matchGroups = (expr: PreparedExpression): Int32Array => {
    let result = groupMatches.get(expr.key);
    if (result !== undefined) return result;
    result = new Int32Array(groups.length);
    groups.forEach((group, g) => {
      const matching = group.setIds.filter((id) => matches(expr, id));
      result![g] = matching.length === 0 ? NONE : matching.length === group.setIds.length ? FULL : columnSets.intern(matching);
    });
    groupMatches.set(expr.key, result);
    return result;
  };

  const databases = new Map<string, Map<LfDatabasePermission, number[]>>();
  const tablePolicies = new Map<string, PreparedPolicy[]>();
  for (const policy of prepared) {
    if (policy.resourceType === "DATABASE") {
      snapshot.databases.forEach((db, i) => {
        if (!matches(policy.expression, databaseSetIds[i]!)) return;
        const key = JSON.stringify([policy.principal, db.name]);
        let perms = databases.get(key);
        if (perms === undefined) databases.set(key, (perms = new Map()));
        for (const p of policy.databasePermissions) pushIndex(perms, p, policy.index);
      });
      continue;
    }
    const list = tablePolicies.get(policy.principal);
    if (list === undefined) tablePolicies.set(policy.principal, [policy]);
    else list.push(policy);
  }

  // Scratch columns indexed by group id, reused for every principal and reset through `touched`.
  const scratch = new GroupAccessScratch(groups.length);
  const principals: PrincipalTableAccess[] = [];
  for (const [principal, policies] of tablePolicies) {
    for (const policy of policies) {
      const byGroup = matchGroups(policy.expression);
      const permissions = policy.tablePermissionIndexes;
      const selects = permissions.includes(SELECT);
      for (let g = 0; g < groups.length; g++) {
        const match = byGroup[g]!;
        if (match === NONE) continue;
        scratch.touch(g);
        if (match === FULL) {
          for (const k of permissions) scratch.full[k]![g] = policySets.with(scratch.full[k]![g]!, policy.index);
        } else {
          // LF: a column subset yields SELECT on those columns + DESCRIBE; INSERT, DELETE, ALTER and
          // DROP need every column and are not granted (aws-facts §1.5, trap 8).
          scratch.full[DESCRIBE]![g] = policySets.with(scratch.full[DESCRIBE]![g]!, policy.index);
          if (selects) {
            scratch.columnSets[g] = columnSets.union(scratch.columnSets[g]!, match);
            scratch.columnBecause[g] = policySets.with(scratch.columnBecause[g]!, policy.index);
          }
        }
      }
    }
    if (scratch.touchedCount > 0) principals.push(scratch.take(principal));
  }

  return {
    databases: [...databases.entries()].map(([key, permissions]) => {
      const [principal, database] = JSON.parse(key) as [string, string];
      return { principal, database, permissions };
    }),
    tables,
    groups,
    principals,
    policySets,
    columnSets,
    policyLabels: snapshot.policies.map((p, i) => policyLabel(p, i, snapshot.expressions)),
    diagnostics,
  };
}

/** One principal's access under construction, in columns indexed by group id. */
class GroupAccessScratch {
  readonly full: Int32Array[];
  readonly columnSets: Int32Array;
  readonly columnBecause: Int32Array;
  readonly #seen: Uint8Array;
  #touched: Int32Array;
  touchedCount = 0;

  constructor(groupCount: number) {
    this.full = LF_TABLE_PERMISSIONS.map(() => new Int32Array(groupCount));
    this.columnSets = new Int32Array(groupCount);
    this.columnBecause = new Int32Array(groupCount);
    this.#seen = new Uint8Array(groupCount);
    this.#touched = new Int32Array(Math.max(Math.min(groupCount, 1024), 1));
  }

  touch(group: number): void {
    if (this.#seen[group] === 1) return;
    this.#seen[group] = 1;
    if (this.touchedCount === this.#touched.length) {
      const grown = new Int32Array(this.#touched.length * 2);
      grown.set(this.#touched);
      this.#touched = grown;
    }
    this.#touched[this.touchedCount++] = group;
  }

  /** The access gathered so far, ascending by group id; resets the scratch for the next principal. */
  take(principal: string): PrincipalTableAccess {
    const ids = this.#touched.slice(0, this.touchedCount).sort();
    const full = this.full.map(() => new Int32Array(ids.length));
    const columnSets = new Int32Array(ids.length);
    const columnBecause = new Int32Array(ids.length);
    ids.forEach((t, i) => {
      this.full.forEach((column, k) => {
        full[k]![i] = column[t]!;
        column[t] = 0;
      });
      // SELECT at table level makes the column-level SELECT moot.
      if (full[SELECT]![i] === 0) {
        columnSets[i] = this.columnSets[t]!;
        columnBecause[i] = this.columnBecause[t]!;
      }
      this.columnSets[t] = 0;
      this.columnBecause[t] = 0;
      this.#seen[t] = 0;
    });
    this.touchedCount = 0;
    return { principal, groups: ids, full, columnSets, columnBecause };
  }
}

function pushIndex<K>(map: Map<K, number[]>, key: K, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}

interface PreparedExpression {
  readonly key: string;
  readonly expression: Expression;
}

interface PreparedPolicy {
  readonly index: number;
  readonly principal: string;
  readonly resourceType: "DATABASE" | "TABLE";
  readonly expression: PreparedExpression;
  /** Table permissions, as indexes into LF_TABLE_PERMISSIONS. */
  readonly tablePermissionIndexes: readonly number[];
  readonly databasePermissions: readonly LfDatabasePermission[];
}

/** Resolves named expressions, expands ALL, drops what cannot be translated (with a warning). */
function preparePolicies(snapshot: CatalogSnapshot, diagnostics: Diagnostic[]): PreparedPolicy[] {
  const prepared: PreparedPolicy[] = [];
  snapshot.policies.forEach((policy, index) => {
    const where = `policy#${index} (${policy.principal})`;
    if (policy.condition !== undefined && policy.condition.trim() !== "") {
      // A Cedar condition narrows the grant by principal attributes; Redshift cannot express it, and
      // granting without it would grant more than Lake Formation allows.
      diagnostics.push(warning(`${where} has a condition, which Redshift cannot express: policy skipped`));
      return;
    }
    if ((policy.permissionsWithGrantOption ?? []).length > 0) {
      diagnostics.push(warning(`${where} has grant options, which Redshift groups and roles cannot hold: granted without them`));
    }
    const expression = policyExpression(policy, snapshot.expressions);
    if (expression === undefined) {
      diagnostics.push(warning(`${where} names expression ${JSON.stringify(policy.expressionName)}, which does not exist: policy skipped`));
      return;
    }
    if (Object.keys(expression).length === 0) {
      diagnostics.push(warning(`${where} has an empty expression, which Lake Formation does not treat as "everything": policy skipped`));
      return;
    }
    for (const [key, values] of Object.entries(expression)) {
      if (values.includes("*")) {
        diagnostics.push(warning(`${where} uses the value * for tag ${key}; its meaning in a policy is undocumented, so it matches nothing`));
      }
    }
    const permissions = new Set(policy.permissions.map((p) => p.toUpperCase()));
    const valid: readonly string[] = policy.resourceType === "TABLE" ? LF_TABLE_PERMISSIONS : LF_DATABASE_PERMISSIONS;
    const expanded = permissions.has("ALL") ? new Set(valid) : new Set([...permissions].filter((p) => valid.includes(p)));
    const ignored = [...permissions].filter((p) => p !== "ALL" && !valid.includes(p));
    if (ignored.length > 0) {
      diagnostics.push(warning(`${where}: ${ignored.join(", ")} cannot be granted by a ${policy.resourceType} tag policy: ignored`));
    }
    if (expanded.size === 0) return;
    const ordered = valid.filter((p) => expanded.has(p));
    prepared.push({
      index,
      principal: policy.principal,
      resourceType: policy.resourceType,
      expression: { key: canonicalExpressionKey(expression), expression },
      tablePermissionIndexes: policy.resourceType === "TABLE" ? ordered.map((p) => LF_TABLE_PERMISSIONS.indexOf(p as LfTablePermission)) : [],
      databasePermissions: policy.resourceType === "DATABASE" ? (ordered as LfDatabasePermission[]) : [],
    });
  });
  return prepared;
}

/** LF: a saved expression's name wins over an empty inline list (aws-facts §1.6, trap 3). */
export function policyExpression(policy: PolicyEntry, expressions: Readonly<Record<string, Expression>>): Expression | undefined {
  if (policy.expressionName !== undefined) {
    return Object.hasOwn(expressions, policy.expressionName) ? expressions[policy.expressionName] : undefined;
  }
  return policy.expression ?? {};
}

function canonicalExpressionKey(expression: Expression): string {
  return JSON.stringify(
    Object.keys(expression)
      .sort()
      .map((k) => [k, [...(expression[k] ?? [])].sort()]),
  );
}

function policyLabel(policy: PolicyEntry, index: number, expressions: Readonly<Record<string, Expression>>): string {
  const expression = policyExpression(policy, expressions);
  const body = expression === undefined ? "(missing expression)" : describeExpression(expression);
  return policy.expressionName !== undefined ? `policy#${index} ${policy.expressionName}: ${body}` : `policy#${index} ${body}`;
}
