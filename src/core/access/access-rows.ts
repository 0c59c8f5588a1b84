import { compareStrings, type DesiredGrant, type Grant, type Grantee, type Privilege, grantSlotKey } from "../grants.js";
import type { PolicyRef } from "../policy-ref.js";
import type { TagOrigin } from "./tag-origins.js";

/**
 * - granted: Lake Formation allows it and the warehouse holds exactly that;
 * - pending: Lake Formation allows it, the warehouse does not hold it (yet);
 * - differs: both, but on other columns (the held form is shown);
 * - unexplained: held on a managed object, and no policy explains it.
 */
export type AccessStatus = "granted" | "pending" | "differs" | "unexplained";

export interface AccessRow {
  readonly grantee: Grantee;
  readonly schema: string;
  readonly table: string | null;
  readonly privilege: Privilege;
  /** null: the whole table (or the schema). */
  readonly columns: readonly string[] | null;
  /** The columns Lake Formation allows when they differ from what is held (status "differs"). */
  readonly allowedColumns?: readonly string[] | null;
  readonly status: AccessStatus;
  /** The policies behind the grant (none when unexplained). */
  readonly policies: readonly PolicyRef[];
  /** The effective tags of the object with the level each comes from. */
  readonly tags: readonly TagOrigin[];
}

export interface AccessInput {
  /** What the resolver and mapper derive from Lake Formation: the same grants the planner is given (read once, in order). */
  readonly desired: Iterable<DesiredGrant>;
  /** What the warehouse holds for the grantees asked about. */
  readonly held: readonly Grant[];
  /** Schemas the mapping manages: held grants elsewhere are not this service's business. */
  readonly managedSchemas: ReadonlySet<string>;
  /** A `because` entry -> its policy. */
  readonly policyOf: (because: string) => PolicyRef;
  readonly catalog: TagSource;
}

/** The current effective access, one row per grantee x object x privilege, in report order. */
export function accessRows(given: AccessInput): AccessRow[] {
  const input: AccessInput = { ...given, catalog: sharedTags(given.catalog) };
  const held = new Map<string, Grant>();
  for (const grant of input.held) {
    if (input.managedSchemas.has(grant.object.schema)) held.set(grantSlotKey(grant), grant);
  }
  const rows: AccessRow[] = [];
  for (const want of input.desired) {
    const key = grantSlotKey(want);
    const have = held.get(key);
    held.delete(key);
    rows.push(explainedRow(want, have, input));
  }
  for (const have of held.values()) rows.push(row(have, have.object.columns, "unexplained", [], input.catalog));
  return rows.sort(compareRows);
}

function explainedRow(want: DesiredGrant, have: Grant | undefined, input: AccessInput): AccessRow {
  const policies = uniquePolicies(want.because.map(input.policyOf));
  if (have === undefined) return row(want, want.object.columns, "pending", policies, input.catalog);
  if (sameColumns(have.object.columns, want.object.columns)) return row(want, want.object.columns, "granted", policies, input.catalog);
  return { ...row(have, have.object.columns, "differs", policies, input.catalog), allowedColumns: want.object.columns };
}

/** What rows read of the catalog (a CatalogIndex): the tags behind an object. */
export interface TagSource {
  tagsBehind(schema: string, table: string | null, columns: readonly string[] | null): readonly TagOrigin[];
}

/**
 * The catalog's tags, one list per object and column list (by identity: grants share their lists)
 * shared by every row on it: at 10k tables the report has ~300k rows on ~10k objects, and a list
 * per row held ~1M tag objects (issue: `access` peaked at 570 MB).
 */
function sharedTags(catalog: TagSource): TagSource {
  const bySchema = new Map<string, Map<string | null, Map<readonly string[] | null, readonly TagOrigin[]>>>();
  return {
    tagsBehind(schema, table, columns) {
      let tables = bySchema.get(schema);
      if (tables === undefined) bySchema.set(schema, (tables = new Map()));
      let lists = tables.get(table);
      if (lists === undefined) tables.set(table, (lists = new Map()));
      let tags = lists.get(columns);
      if (tags === undefined) lists.set(columns, (tags = catalog.tagsBehind(schema, table, columns)));
      return tags;
    },
  };
}

function row(grant: Grant, columns: readonly string[] | null, status: AccessStatus, policies: readonly PolicyRef[], catalog: TagSource): AccessRow {
  const { schema, table } = grant.object;
  return { grantee: grant.grantee, schema, table, privilege: grant.privilege, columns, status, policies, tags: catalog.tagsBehind(schema, table, columns) };
}

function uniquePolicies(policies: readonly PolicyRef[]): PolicyRef[] {
  const byId = new Map<string, PolicyRef>();
  for (const p of policies) byId.set(p.id, p);
  return [...byId.values()];
}

function sameColumns(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

function compareRows(a: AccessRow, b: AccessRow): number {
  return (
    compareStrings(a.schema, b.schema) ||
    compareStrings(a.table ?? "", b.table ?? "") ||
    compareStrings(a.grantee.kind, b.grantee.kind) ||
    compareStrings(a.grantee.name, b.grantee.name) ||
    compareStrings(a.privilege, b.privilege)
  );
}

/** Rows matching the report's filters (exact names, as the warehouse spells them). */
export function filterRows(rows: readonly AccessRow[], filter: { readonly grantee?: string; readonly schema?: string; readonly table?: string }): AccessRow[] {
  return rows.filter(
    (r) =>
      (filter.grantee === undefined || r.grantee.name === filter.grantee) &&
      (filter.schema === undefined || r.schema === filter.schema) &&
      (filter.table === undefined || r.table === filter.table),
  );
}
