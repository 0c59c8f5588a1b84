import type { CatalogSnapshot, Expression, PolicyEntry } from "../catalog/model.js";
import { type Diagnostic, warning } from "./diagnostics.js";
import { describeExpression, effectiveTags, matchesExpression, TagSetInterner } from "./tags.js";

/** Lake Formation permissions a TABLE tag policy can carry (aws-facts §1.4). */
export const LF_TABLE_PERMISSIONS = ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"] as const;
/** Lake Formation permissions a DATABASE tag policy can carry. */
export const LF_DATABASE_PERMISSIONS = ["DESCRIBE", "CREATE_TABLE", "ALTER", "DROP"] as const;
export type LfTablePermission = (typeof LF_TABLE_PERMISSIONS)[number];
export type LfDatabasePermission = (typeof LF_DATABASE_PERMISSIONS)[number];

/** What Lake Formation lets one principal do on one table, with the policies behind each part. */
export interface TableEntitlement {
  readonly principal: string;
  readonly database: string;
  readonly table: string;
  /** Table-level permissions (every column matched) -> policy indexes. */
  readonly full: ReadonlyMap<LfTablePermission, readonly number[]>;
  /** SELECT on a column subset (some columns matched), absent when SELECT is held at table level. */
  readonly columnSelect: { readonly columns: readonly string[]; readonly because: readonly number[] } | null;
}

export interface DatabaseEntitlement {
  readonly principal: string;
  readonly database: string;
  readonly permissions: ReadonlyMap<LfDatabasePermission, readonly number[]>;
}

export interface Entitlements {
  readonly databases: readonly DatabaseEntitlement[];
  readonly tables: readonly TableEntitlement[];
  /** `policy#3 access in (public)` per policy index, for `because`. */
  readonly policyLabels: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

interface TableInfo {
  readonly database: string;
  readonly table: string;
  readonly columnNames: readonly string[];
  /** Tag-set id of each column (or of the table itself when it has no columns). */
  readonly columnSetIds: Int32Array;
}

/** Tables whose columns use the same distinct tag sets evaluate identically for every expression. */
interface SignatureGroup {
  readonly setIds: readonly number[];
  readonly tables: TableInfo[];
}

/**
 * Policies -> entitlements with exactly Lake Formation's semantics (DESIGN §2). Cost: one
 * expression evaluation per (distinct expression x distinct tag set), one subset test per
 * (expression x table signature), then work proportional to the entitlements produced.
 */
export function resolvePolicies(snapshot: CatalogSnapshot): Entitlements {
  const diagnostics: Diagnostic[] = [];
  const interner = new TagSetInterner();
  const databaseSetIds: number[] = [];
  const groups = new Map<string, SignatureGroup>();

  for (const db of snapshot.databases) {
    databaseSetIds.push(interner.intern(db.tags));
    for (const table of db.tables) {
      const tableTags = effectiveTags(db.tags, table.tags);
      const tableSetId = interner.intern(tableTags);
      const columns = table.columns;
      const columnSetIds = new Int32Array(Math.max(columns.length, 1));
      if (columns.length === 0) {
        columnSetIds[0] = tableSetId;
      } else {
        for (let i = 0; i < columns.length; i++) {
          const assigned = columns[i]!.tags;
          columnSetIds[i] = Object.keys(assigned).length === 0 ? tableSetId : interner.intern(effectiveTags(tableTags, assigned));
        }
      }
      const setIds = [...new Set(columnSetIds)].sort((a, b) => a - b);
      const signature = setIds.join(",");
      let group = groups.get(signature);
      if (group === undefined) {
        group = { setIds, tables: [] };
        groups.set(signature, group);
      }
      group.tables.push({ database: db.name, table: table.name, columnNames: columns.map((c) => c.name), columnSetIds });
    }
  }

  const prepared = preparePolicies(snapshot, diagnostics);
  const matchCache = new Map<string, Int8Array>();
  const matches = (expr: PreparedExpression, setId: number): boolean => {
    let cache = matchCache.get(expr.key);
    if (cache === undefined) {
      cache = new Int8Array(interner.sets.length);
      matchCache.set(expr.key, cache);
    }
    if (cache[setId] === 0) cache[setId] = matchesExpression(expr.expression, interner.sets[setId]!) ? 1 : 2;
    return cache[setId] === 1;
  };

  const databases = new Map<string, Map<LfDatabasePermission, number[]>>();
  // principal -> table -> access: object keys, no string building per (policy, table) pair.
  const tables = new Map<string, Map<TableInfo, TableAccess>>();

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
    for (const group of groups.values()) {
      const matching = group.setIds.filter((id) => matches(policy.expression, id));
      if (matching.length === 0) continue;
      const isFull = matching.length === group.setIds.length;
      for (const info of group.tables) {
        const access = tableAccess(tables, policy.principal, info);
        if (isFull) {
          for (const p of policy.tablePermissions) pushIndex(access.full, p, policy.index);
        } else {
          // LF: a column subset yields SELECT on those columns + DESCRIBE; INSERT, DELETE, ALTER and
          // DROP need every column and are not granted (aws-facts §1.5, trap 8).
          if (policy.tablePermissions.includes("SELECT")) {
            const columns = (access.columns ??= new Set());
            for (let c = 0; c < info.columnNames.length; c++) {
              if (matching.includes(info.columnSetIds[c]!)) columns.add(info.columnNames[c]!);
            }
            (access.columnBecause ??= new Set()).add(policy.index);
          }
          pushIndex(access.full, "DESCRIBE", policy.index);
        }
      }
    }
  }

  return {
    databases: [...databases.entries()].map(([key, permissions]) => {
      const [principal, database] = JSON.parse(key) as [string, string];
      return { principal, database, permissions };
    }),
    tables: [...tables.values()].flatMap((byTable) => [...byTable.values()].map(finishTableAccess)),
    policyLabels: snapshot.policies.map((p, i) => policyLabel(p, i, snapshot.expressions)),
    diagnostics,
  };
}

interface TableAccess {
  readonly principal: string;
  readonly info: TableInfo;
  readonly full: Map<LfTablePermission, number[]>;
  /** Created on the first column-subset match only. */
  columns: Set<string> | undefined;
  columnBecause: Set<number> | undefined;
}

function tableAccess(tables: Map<string, Map<TableInfo, TableAccess>>, principal: string, info: TableInfo): TableAccess {
  let byTable = tables.get(principal);
  if (byTable === undefined) tables.set(principal, (byTable = new Map()));
  let access = byTable.get(info);
  if (access === undefined) {
    access = { principal, info, full: new Map(), columns: undefined, columnBecause: undefined };
    byTable.set(info, access);
  }
  return access;
}

function finishTableAccess(access: TableAccess): TableEntitlement {
  const hasFullSelect = access.full.has("SELECT");
  const { columns, columnBecause } = access;
  const columnSelect =
    !hasFullSelect && columns !== undefined && columns.size > 0
      ? {
          columns: access.info.columnNames.filter((c) => columns.has(c)).sort(),
          because: [...(columnBecause ?? [])].sort((a, b) => a - b),
        }
      : null;
  return { principal: access.principal, database: access.info.database, table: access.info.table, full: access.full, columnSelect };
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
  readonly tablePermissions: readonly LfTablePermission[];
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
      tablePermissions: policy.resourceType === "TABLE" ? (ordered as LfTablePermission[]) : [],
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
