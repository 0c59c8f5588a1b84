import type { MappingConfig } from "../../config/schema.js";
import type { Diagnostic } from "../diagnostics.js";
import { GrantColumns, GrantRegistry, PRIVILEGE_ID } from "../grant-columns.js";
import { compareStrings, type DesiredGrant, type Dialect, type Grantee, PRIVILEGES } from "../grants.js";
import type { PolicyRef } from "../policy-ref.js";
import type { Entitlements } from "../resolve/entitlements.js";
import { accessGrants, DEFAULT_PRIVILEGES, type PrivilegeMap } from "./access-grants.js";
import { collidingSchemas } from "./schema-collisions.js";
import { checkSharedGrantees, GranteeEntries, type GranteeEntry, type SchemaSlots, schemaSlots } from "./grantees.js";
import { mergeAccesses } from "./merge-accesses.js";
import { identifierMapper, type IdentifierMapper, schemaMapper } from "./names.js";
import { principalMapper } from "./principals.js";
import { TableObjects } from "./table-objects.js";

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

/** What writing one grantee's grants needs: shared by every grantee of a run. */
interface MapContext {
  readonly entitlements: Entitlements;
  readonly registry: GrantRegistry;
  readonly columns: GrantColumns;
  readonly tables: TableObjects;
  readonly privileges: PrivilegeMap;
  /** Registry `because` id of a policy set. */
  readonly becauseOf: (set: number) => number;
}

/**
 * Entitlements -> the grants Redshift should hold (DESIGN §3): principals to grantees, Glue names
 * to Redshift names, LF permissions to privileges, and schema USAGE/CREATE. Works on the
 * resolver's integer columns; each distinct name, object and explanation is built once and shared
 * by the grants that use it. Throws CONFIG_INVALID when principals share a grantee unconfigured.
 */
export function mapEntitlements(entitlements: Entitlements, mapping: MappingConfig, dialect: Dialect): DesiredState {
  const diagnostics: Diagnostic[] = [];
  const names = identifierMapper(dialect, diagnostics);
  const schemaOf = schemaMapper(mapping);
  const colliding = collidingSchemas(entitlements.databaseNames, (database) => foldedSchema(schemaOf, names, database), diagnostics);
  const entries = new GranteeEntries(principalMapper(mapping, entitlements.catalogId, dialect, diagnostics));
  addDatabaseGrants(entitlements, entries, schemaOf, names, colliding);
  for (const access of entitlements.principals) entries.entry(access.principal)?.accesses.push(access);
  checkSharedGrantees(entries.values(), mapping, dialect, diagnostics);

  const registry = new GrantRegistry();
  const columns = new GrantColumns();
  const policyIds = entitlements.policies.map((p) => p.id);
  // Most grants share their explanation with many others (one policy, many tables).
  const becauseIds = new Map<number, number>();
  const becauseOf = (set: number): number => {
    let id = becauseIds.get(set);
    if (id === undefined) becauseIds.set(set, (id = registry.becauseId(becauseOfPolicies(entitlements.policySets.members(set), policyIds))));
    return id;
  };
  const privileges = { ...DEFAULT_PRIVILEGES[dialect], ...mapping.privileges } as PrivilegeMap;
  const context: MapContext = { entitlements, registry, columns, privileges, becauseOf, tables: new TableObjects(entitlements, registry, names, schemaOf, diagnostics) };
  for (const entry of entries.values()) addGranteeGrants(context, entry);
  let grants: DesiredGrant[] | undefined;
  return {
    columns,
    registry,
    get grants(): readonly DesiredGrant[] {
      grants ??= Array.from({ length: columns.length }, (_, i) => columns.grantAt(i, registry));
      return grants;
    },
    grantees: [...entries.values()].map((e) => e.grantee),
    policies: distinctPolicies(entitlements.policies),
    diagnostics,
  };
}

/** A Glue database's schema in the dialect, or null (not mapped, or not a valid name: reported when used). */
function foldedSchema(schemaOf: (database: string) => string | null, names: IdentifierMapper, database: string): string | null {
  const schema = schemaOf(database);
  return schema === null ? null : names.fold(schema);
}

/** LF database DESCRIBE -> schema USAGE; CREATE_TABLE -> schema CREATE (DESIGN §3); nothing on a schema two databases map to. */
function addDatabaseGrants(
  entitlements: Entitlements,
  entries: GranteeEntries,
  schemaOf: (database: string) => string | null,
  names: IdentifierMapper,
  collidingSchemas: ReadonlySet<string>,
): void {
  const { policySets } = entitlements;
  for (const entitlement of entitlements.databases) {
    const entry = entries.entry(entitlement.principal);
    const schemaName = schemaOf(entitlement.database);
    if (entry === null || schemaName === null) continue;
    const schema = names.nameOf(schemaName, () => `database ${entitlement.database}`);
    if (schema === null || collidingSchemas.has(schema)) continue;
    for (const [permission, because] of entitlement.permissions) {
      const slots = schemaSlots(entry.schemas, schema);
      const set = policySets.intern([...because].sort((a, b) => a - b));
      if (permission === "DESCRIBE") slots.usage = policySets.union(slots.usage, set);
      if (permission === "CREATE_TABLE") slots.create = policySets.union(slots.create, set);
    }
  }
}

/** One grantee's rows: per signature group the grants `accessGrants` decides, one row per table; then its schemas. */
function addGranteeGrants(context: MapContext, { grantee, accesses, schemas }: GranteeEntry): void {
  const { entitlements, registry, columns, becauseOf } = context;
  const granteeId = registry.granteeId(grantee);
  const access = accesses.length <= 1 ? accesses[0] : mergeAccesses(accesses, entitlements);
  const full = new Int32Array(access?.full.length ?? 0);
  const rows: GroupRows = { count: 0, privileges: new Int32Array(PRIVILEGE_COUNT), because: new Int32Array(PRIVILEGE_COUNT), columnSet: 0, columnBecause: -1, usage: 0, usageWithColumns: 0 };
  for (let i = 0; access !== undefined && i < access.groups.length; i++) {
    for (let k = 0; k < full.length; k++) full[k] = access.full[k]![i]!;
    const decided = accessGrants(full, access.columnBecause[i]!, context.privileges, entitlements.policySets);
    rows.count = decided.tableLevel.length;
    decided.tableLevel.forEach((g, p) => {
      rows.privileges[p] = PRIVILEGE_ID[g.privilege];
      rows.because[p] = becauseOf(g.because);
    });
    rows.columnSet = decided.columnSelect === 0 ? 0 : access.columnSets[i]!;
    rows.columnBecause = rows.columnSet === 0 ? -1 : becauseOf(decided.columnSelect);
    rows.usage = decided.usage;
    rows.usageWithColumns = decided.usageWithColumns;
    addGroupRows(context, granteeId, rows, entitlements.groups[access.groups[i]!]!.tableIds, schemas);
  }
  for (const [schema, slots] of schemas) {
    const object = registry.objectId(schema, null);
    if (slots.usage !== 0) columns.push(granteeId, PRIVILEGE_ID.USAGE, object, 0, becauseOf(slots.usage));
    if (slots.create !== 0) columns.push(granteeId, PRIVILEGE_ID.CREATE, object, 0, becauseOf(slots.create));
  }
}

const PRIVILEGE_COUNT = PRIVILEGES.length;

/** One signature group's decision in registry ids, reused from group to group (the hot loop reads only numbers). */
interface GroupRows {
  count: number;
  readonly privileges: Int32Array;
  readonly because: Int32Array;
  columnSet: number;
  columnBecause: number;
  usage: number;
  usageWithColumns: number;
}

/** The same rows on every table of a signature group, and the USAGE they imply on its schemas. */
function addGroupRows(context: MapContext, granteeId: number, rows: GroupRows, tableIds: Int32Array, schemas: Map<string, SchemaSlots>): void {
  const { registry, columns, tables } = context;
  const sets = context.entitlements.policySets;
  let lastSchema = "";
  let lastSlots: SchemaSlots | undefined;
  for (let t = 0; t < tableIds.length; t++) {
    const tableId = tableIds[t]!;
    const object = tables.tableObject(tableId);
    if (object < 0) continue;
    for (let p = 0; p < rows.count; p++) columns.push(granteeId, rows.privileges[p]!, object, 0, rows.because[p]!);
    let usage = rows.usage;
    const list = rows.columnSet === 0 ? 0 : tables.subsetList(tableId, rows.columnSet);
    if (list !== 0) {
      columns.push(granteeId, PRIVILEGE_ID.SELECT, object, list, rows.columnBecause);
      usage = rows.usageWithColumns;
    }
    if (usage === 0) continue;
    // Any table or column privilege implies USAGE on its schema, managed like any other grant.
    const schema = registry.objects[object]!.schema;
    if (lastSlots === undefined || schema !== lastSchema) {
      lastSchema = schema;
      lastSlots = schemaSlots(schemas, schema);
    }
    lastSlots.usage = sets.union(lastSlots.usage, usage);
  }
}

/** The ids of a set of policy indexes: distinct (identical policies share an id), sorted. */
function becauseOfPolicies(members: readonly number[], policyIds: readonly string[]): string[] {
  return [...new Set(members.map((i) => policyIds[i]!))].sort(compareStrings);
}

function distinctPolicies(policies: readonly PolicyRef[]): PolicyRef[] {
  const byId = new Map(policies.map((p) => [p.id, p]));
  return [...byId.values()].sort((a, b) => compareStrings(a.id, b.id));
}
