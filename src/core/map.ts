import type { MappingConfig } from "../config/schema.js";
import { type Diagnostic, error, warning } from "./diagnostics.js";
import { GrantColumns, GrantRegistry, PRIVILEGE_ID } from "./grant-columns.js";
import { type DesiredGrant, type Dialect, type Grantee, PRIVILEGES, type TablePrivilege, compareStrings } from "./grants.js";
import type { PolicyRef } from "./policy-ref.js";
import { type Entitlements, LF_TABLE_PERMISSIONS, type LfTablePermission, type PrincipalTableAccess } from "./resolve.js";

/** Identifier limits in bytes (DESIGN §3): longer names are errors, never truncated. */
export const MAX_IDENTIFIER_BYTES: Record<Dialect, number> = { redshift: 127, postgres: 63 };

/** LF table permission -> target privileges, per dialect (DESIGN §3). PostgreSQL has no DROP privilege. */
const DEFAULT_PRIVILEGES: Record<Dialect, Record<LfTablePermission, readonly TablePrivilege[]>> = {
  redshift: { SELECT: ["SELECT"], INSERT: ["INSERT"], DELETE: ["DELETE"], DROP: ["DROP"], ALTER: [], DESCRIBE: [] },
  postgres: { SELECT: ["SELECT"], INSERT: ["INSERT"], DELETE: ["DELETE"], DROP: [], ALTER: [], DESCRIBE: [] },
};

export interface DesiredState {
  /** The grants as integer columns over `registry`: what the planner reads. */
  readonly columns: GrantColumns;
  readonly registry: GrantRegistry;
  /** The same grants as objects, built on first access (tests, reports). */
  readonly grants: readonly DesiredGrant[];
  /** Every grantee a policy maps to, including those with nothing to hold right now. */
  readonly grantees: readonly Grantee[];
  /** Every policy of the catalog once, by id; each grant's `because` lists ids of these. */
  readonly policies: readonly PolicyRef[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Entitlements -> the grants Redshift should hold (DESIGN §3): principals to grantees, Glue names
 * to Redshift names, LF permissions to privileges, and schema USAGE/CREATE. Works on the
 * resolver's integer columns; each distinct name, object and explanation is built once and shared
 * by the grants that use it.
 */
export function mapEntitlements(entitlements: Entitlements, mapping: MappingConfig, dialect: Dialect): DesiredState {
  const diagnostics: Diagnostic[] = [];
  const granteeOf = principalMapper(mapping, diagnostics, MAX_IDENTIFIER_BYTES[dialect]);
  const schemaOf = schemaMapper(mapping);
  const { nameOf, fold } = identifierMapper(dialect, diagnostics);
  const privilegeMap = { ...DEFAULT_PRIVILEGES[dialect], ...mapping.privileges } as Record<LfTablePermission, readonly TablePrivilege[]>;
  const { policySets, tables } = entitlements;
  const policyIds = entitlements.policies.map((p) => p.id);

  const registry = new GrantRegistry();
  const columns = new GrantColumns();
  // Most grants share their explanation with many others (one policy, many tables).
  const becauseIds = new Map<number, number>();
  const becauseOf = (set: number): number => {
    let id = becauseIds.get(set);
    if (id === undefined) becauseIds.set(set, (id = registry.becauseId(becauseOfPolicies(policySets.members(set), policyIds))));
    return id;
  };

  // Per table id: the registry object of the whole table in Redshift (-1: skipped, -2: not seen yet).
  const tableObjects = new Int32Array(tables.length).fill(-2);
  const tableObject = (tableId: number): number => {
    let object = tableObjects[tableId]!;
    if (object === -2) {
      const info = tables[tableId]!;
      const schemaName = schemaOf(info.database);
      const schema = schemaName === null ? null : nameOf(schemaName, () => `database ${info.database}`);
      const table = schemaName === null ? null : nameOf(info.table, () => `table ${info.database}.${info.table}`);
      object = schema === null || table === null ? -1 : registry.objectId(schema, table);
      tableObjects[tableId] = object;
    }
    return object;
  };
  // Per table id: its columns in the order of their Redshift names (null: not a valid name), built
  // once per table, so that each subset is a filter of it and needs no sort of its own.
  type SortedColumns = { readonly names: readonly (string | null)[]; readonly setIds: Int32Array };
  const sortedColumns = new Array<SortedColumns | undefined>(tables.length).fill(undefined);
  const sortedColumnsOf = (tableId: number): SortedColumns => {
    let sorted = sortedColumns[tableId];
    if (sorted === undefined) {
      const info = tables[tableId]!;
      const folded = info.columnNames.map(fold);
      const order = info.columnNames.map((_, c) => c).sort((a, b) => compareNullable(folded[a]!, folded[b]!));
      sorted = { names: order.map((c) => folded[c]!), setIds: Int32Array.from(order, (c) => info.columnSetIds[c]!) };
      sortedColumns[tableId] = sorted;
    }
    return sorted;
  };
  // Per column set: a lookup table of its tag-set ids.
  const tagSetCount = tables.reduce((max, t) => t.columnSetIds.reduce((m, id) => Math.max(m, id + 1), max), 0);
  const memberships = new Map<number, Uint8Array>();
  const membership = (columnSet: number): Uint8Array => {
    let inSet = memberships.get(columnSet);
    if (inSet === undefined) {
      inSet = new Uint8Array(tagSetCount);
      for (const id of entitlements.columnSets.members(columnSet)) inSet[id] = 1;
      memberships.set(columnSet, inSet);
    }
    return inSet;
  };
  // Per (table, column set): the registry id of that column list, mapped, distinct and sorted (0: none valid).
  const subsetLists = new Map<number, number>();
  const subsetList = (tableId: number, columnSet: number): number => {
    const key = columnSet * tables.length + tableId;
    let id = subsetLists.get(key);
    if (id === undefined) {
      // A table whose column names are all valid has a non-empty list for every column set of its
      // group: made when read. Otherwise made now, reporting the invalid names it contains.
      id = hasInvalidColumn(tableId) ? eagerSubset(tableId, columnSet) : registry.addLazyColumns(() => subsetColumns(tableId, columnSet));
      subsetLists.set(key, id);
    }
    return id;
  };
  const invalidColumns = new Int8Array(tables.length); // 0 unknown, 1 none, 2 some
  const hasInvalidColumn = (tableId: number): boolean => {
    if (invalidColumns[tableId] === 0) invalidColumns[tableId] = tables[tableId]!.columnNames.some((c) => fold(c) === null) ? 2 : 1;
    return invalidColumns[tableId] === 2;
  };
  const eagerSubset = (tableId: number, columnSet: number): number => {
    const info = tables[tableId]!;
    const inSet = membership(columnSet);
    info.columnNames.forEach((glue, c) => {
      if (inSet[info.columnSetIds[c]!] === 1 && fold(glue) === null) nameOf(glue, () => `column ${info.database}.${info.table}.${glue}`);
    });
    const list = subsetColumns(tableId, columnSet);
    return list.length === 0 ? 0 : registry.addColumns(list);
  };
  /** The Redshift names of a table's columns in a column set: valid, distinct, sorted. */
  const subsetColumns = (tableId: number, columnSet: number): string[] => {
    const sorted = sortedColumnsOf(tableId);
    const inSet = membership(columnSet);
    const valid: string[] = [];
    for (let c = 0; c < sorted.names.length; c++) {
      if (inSet[sorted.setIds[c]!] !== 1) continue;
      const name = sorted.names[c]!;
      // Folded names can collide (Redshift lower-cases): one entry.
      if (name !== null && (valid.length === 0 || valid[valid.length - 1] !== name)) valid.push(name);
    }
    return valid;
  };

  // Principals mapped to one grantee hold the union of what each may do: merge them first.
  const granteesSeen = new Map<string, { grantee: Grantee; accesses: PrincipalTableAccess[]; schemas: Map<string, SchemaSlots> }>();
  const granteeEntry = (principal: string) => {
    const grantee = granteeOf(principal);
    if (grantee === null) return null;
    const key = `${grantee.kind}:${grantee.name}`;
    let entry = granteesSeen.get(key);
    if (entry === undefined) granteesSeen.set(key, (entry = { grantee, accesses: [], schemas: new Map() }));
    return entry;
  };
  const schemaSlots = (schemas: Map<string, SchemaSlots>, schema: string): SchemaSlots => {
    let slots = schemas.get(schema);
    if (slots === undefined) schemas.set(schema, (slots = { usage: 0, create: 0 }));
    return slots;
  };

  for (const entitlement of entitlements.databases) {
    const entry = granteeEntry(entitlement.principal);
    const schemaName = schemaOf(entitlement.database);
    if (entry === null || schemaName === null) continue;
    const schema = nameOf(schemaName, () => `database ${entitlement.database}`);
    if (schema === null) continue;
    for (const [permission, because] of entitlement.permissions) {
      // LF database DESCRIBE -> schema USAGE; CREATE_TABLE -> schema CREATE (DESIGN §3).
      const slots = schemaSlots(entry.schemas, schema);
      const set = policySets.intern([...because].sort((a, b) => a - b));
      if (permission === "DESCRIBE") slots.usage = policySets.union(slots.usage, set);
      if (permission === "CREATE_TABLE") slots.create = policySets.union(slots.create, set);
    }
  }
  for (const access of entitlements.principals) granteeEntry(access.principal)?.accesses.push(access);

  // Per LF table permission, the privilege ids it maps to; per privilege id, its policy set so far.
  const permissionPrivileges = LF_TABLE_PERMISSIONS.map((permission) => [...new Set(privilegeMap[permission].map((p) => PRIVILEGE_ID[p]))]);
  const privilegeBecause = new Int32Array(PRIVILEGES.length);
  const privilegesTouched = new Int32Array(PRIVILEGES.length);
  const groupPrivileges = new Int32Array(PRIVILEGES.length);
  const groupBecause = new Int32Array(PRIVILEGES.length);
  const SELECT = PRIVILEGE_ID.SELECT;
  for (const { grantee, accesses, schemas } of granteesSeen.values()) {
    const granteeId = registry.granteeId(grantee);
    const access = accesses.length <= 1 ? accesses[0] : mergeAccesses(accesses, entitlements);
    for (let i = 0; access !== undefined && i < access.groups.length; i++) {
      // Every table of a signature group gets the same grants: work out the privileges, their
      // explanations and the schema USAGE once per group, then write one row per table.
      let fullUsage = 0;
      let touched = 0;
      for (let k = 0; k < permissionPrivileges.length; k++) {
        const set = access.full[k]![i]!;
        if (set === 0) continue;
        for (const privilege of permissionPrivileges[k]!) {
          const before = privilegeBecause[privilege]!;
          if (before === 0) privilegesTouched[touched++] = privilege;
          privilegeBecause[privilege] = policySets.union(before, set);
          fullUsage = policySets.union(fullUsage, set);
        }
      }
      for (let p = 0; p < touched; p++) {
        const privilege = privilegesTouched[p]!;
        groupPrivileges[p] = privilege;
        groupBecause[p] = becauseOf(privilegeBecause[privilege]!);
        privilegeBecause[privilege] = 0;
      }
      const columnSet = access.full[SELECT_INDEX]![i] === 0 ? access.columnSets[i]! : 0;
      const subsetSet = access.columnBecause[i]!;
      const subsetBecause = columnSet === 0 ? -1 : becauseOf(subsetSet);
      const subsetUsage = columnSet === 0 ? fullUsage : policySets.union(fullUsage, subsetSet);
      let lastSchema = "";
      let lastSlots: SchemaSlots | undefined;
      for (const tableId of entitlements.groups[access.groups[i]!]!.tableIds) {
        const object = tableObject(tableId);
        if (object < 0) continue;
        for (let p = 0; p < touched; p++) columns.push(granteeId, groupPrivileges[p]!, object, 0, groupBecause[p]!);
        let usage = fullUsage;
        if (columnSet !== 0) {
          const list = subsetList(tableId, columnSet);
          if (list !== 0) {
            columns.push(granteeId, SELECT, object, list, subsetBecause);
            usage = subsetUsage;
          }
        }
        // Any table or column privilege implies USAGE on its schema, managed like any other grant.
        if (usage !== 0) {
          const schema = registry.objects[object]!.schema;
          if (lastSlots === undefined || schema !== lastSchema) {
            lastSchema = schema;
            lastSlots = schemaSlots(schemas, schema);
          }
          lastSlots.usage = policySets.union(lastSlots.usage, usage);
        }
      }
    }
    for (const [schema, slots] of schemas) {
      const object = registry.objectId(schema, null);
      if (slots.usage !== 0) columns.push(granteeId, PRIVILEGE_ID.USAGE, object, 0, becauseOf(slots.usage));
      if (slots.create !== 0) columns.push(granteeId, PRIVILEGE_ID.CREATE, object, 0, becauseOf(slots.create));
    }
  }
  let grants: DesiredGrant[] | undefined;
  return {
    columns,
    registry,
    get grants(): readonly DesiredGrant[] {
      grants ??= Array.from({ length: columns.length }, (_, i) => columns.grantAt(i, registry));
      return grants;
    },
    grantees: [...granteesSeen.values()].map((e) => e.grantee),
    policies: distinctPolicies(entitlements.policies),
    diagnostics,
  };
}

/** The ids of a set of policy indexes: distinct (identical policies share an id), sorted. */
function becauseOfPolicies(members: readonly number[], policyIds: readonly string[]): string[] {
  return [...new Set(members.map((i) => policyIds[i]!))].sort(compareStrings);
}

function distinctPolicies(policies: readonly PolicyRef[]): PolicyRef[] {
  const byId = new Map(policies.map((p) => [p.id, p]));
  return [...byId.values()].sort((a, b) => compareStrings(a.id, b.id));
}

/** compareStrings with null (invalid names, dropped later) last. */
function compareNullable(a: string | null, b: string | null): number {
  return a === null ? (b === null ? 0 : 1) : b === null ? -1 : compareStrings(a, b);
}

interface SchemaSlots {
  usage: number;
  create: number;
}

const SELECT_INDEX = LF_TABLE_PERMISSIONS.indexOf("SELECT");

/** The union of several principals' access (they map to one grantee), ascending by group id. */
function mergeAccesses(accesses: readonly PrincipalTableAccess[], entitlements: Entitlements): PrincipalTableAccess {
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
    columnSets: Int32Array.from(entries, (e) => (e.full[SELECT_INDEX] === 0 ? e.columnSet : 0)),
    columnBecause: Int32Array.from(entries, (e) => (e.full[SELECT_INDEX] === 0 ? e.columnBecause : 0)),
  };
}

function principalMapper(mapping: MappingConfig, diagnostics: Diagnostic[], maxBytes: number): (principal: string) => Grantee | null {
  const rules = mapping.principalRules.map((rule) => ({ ...rule, regex: new RegExp(rule.match) }));
  const cache = new Map<string, Grantee | null>();
  return (principal) => {
    const cached = cache.get(principal);
    if (cached !== undefined || cache.has(principal)) return cached ?? null;
    let grantee: Grantee | null = null;
    const explicit = Object.hasOwn(mapping.principals, principal) ? mapping.principals[principal] : undefined;
    if (typeof explicit === "string") grantee = { kind: "group", name: explicit };
    else if (explicit !== undefined) grantee = { kind: explicit.kind, name: explicit.name };
    else {
      for (const rule of rules) {
        const m = rule.regex.exec(principal);
        if (m === null || m[0] !== principal) continue;
        const name = principal.replace(rule.regex, rule.grantee);
        grantee = { kind: rule.kind, name: rule.lowercase ? name.toLowerCase() : name };
        break;
      }
    }
    if (grantee === null) diagnostics.push(warning(`principal ${principal} has no grantee mapping: its policies are not applied`));
    else if (grantee.name.length === 0 || grantee.name.includes("\u0000") || Buffer.byteLength(grantee.name, "utf8") > maxBytes) {
      // The target would truncate the name and grant to another grantee (DESIGN §3: never truncated).
      diagnostics.push(error(`principal ${principal}: grantee name ${JSON.stringify(grantee.name)} is empty, contains NUL or is longer than ${maxBytes} bytes: skipped, never truncated`));
      grantee = null;
    }
    cache.set(principal, grantee);
    return grantee;
  };
}

export function schemaMapper(mapping: MappingConfig): (database: string) => string | null {
  const isIncluded = globMatcher(mapping.databases.include);
  const isExcluded = globMatcher(mapping.databases.exclude);
  const cache = new Map<string, string | null>();
  return (database) => {
    let schema = cache.get(database);
    if (schema === undefined) {
      schema = !isIncluded(database) || isExcluded(database) ? null : Object.hasOwn(mapping.databases.rename, database) ? mapping.databases.rename[database]! : database;
      cache.set(database, schema);
    }
    return schema;
  };
}

/**
 * `*` (any run of characters) and `?` (one character) over whole Glue names. Glue names may contain
 * `/`, which path-glob libraries treat as a separator that `*` cannot cross.
 */
export function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const body = patterns
    .map((p) => [...p].map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&"))).join(""))
    .join("|");
  const regex = new RegExp(`^(?:${body})$`, "su");
  return (name) => regex.test(name);
}

/**
 * Redshift folds quoted ASCII letters to lower case (aws-facts §6.5, trap 9), so names are compared
 * and rendered lower-cased there; PostgreSQL keeps quoted names as they are.
 */
/** A Glue name as the dialect stores it, or null when it cannot be a name there (never truncated). */
export function foldIdentifier(name: string, dialect: Dialect): string | null {
  const folded = dialect === "redshift" ? name.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : name;
  return Buffer.byteLength(folded, "utf8") > MAX_IDENTIFIER_BYTES[dialect] || folded.length === 0 || folded.includes("\u0000") ? null : folded;
}

function identifierMapper(dialect: Dialect, diagnostics: Diagnostic[]): {
  /** The name in the dialect, or null, reporting `what()` once as an error when null. */
  readonly nameOf: (name: string, what: () => string) => string | null;
  /** The same without reporting. */
  readonly fold: (name: string) => string | null;
} {
  const max = MAX_IDENTIFIER_BYTES[dialect];
  const reported = new Set<string>();
  // Names repeat across principals (one table, many grantees): map each distinct name once.
  const cache = new Map<string, string | null>();
  const fold = (name: string): string | null => {
    let mapped = cache.get(name);
    if (mapped === undefined) {
      mapped = foldIdentifier(name, dialect);
      cache.set(name, mapped);
    }
    return mapped;
  };
  const nameOf = (name: string, what: () => string): string | null => {
    const mapped = fold(name);
    if (mapped === null) {
      const where = what();
      if (!reported.has(where)) {
        reported.add(where);
        diagnostics.push(error(`${where}: name is empty, contains NUL or is longer than ${max} bytes (the ${dialect} limit): skipped, never truncated`));
      }
    }
    return mapped;
  };
  return { nameOf, fold };
}

/** The grantee a principal maps to, or null, exactly as mapEntitlements maps it (reports, explain). */
export function granteeOfPrincipal(mapping: MappingConfig, dialect: Dialect): (principal: string) => Grantee | null {
  return principalMapper(mapping, [], MAX_IDENTIFIER_BYTES[dialect]);
}
