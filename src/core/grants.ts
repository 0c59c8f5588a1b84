/**
 * The Redshift side of the model: who (grantee) holds what (privilege) on which object.
 * One `Grant` covers a schema (table = null), a whole table (columns = null) or a column subset
 * of one table (columns = sorted, non-empty).
 */
export type Dialect = "postgres" | "redshift";

export type GranteeKind = "group" | "role";

export interface Grantee {
  readonly kind: GranteeKind;
  readonly name: string;
}

export const SCHEMA_PRIVILEGES = ["USAGE", "CREATE"] as const;
export const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "DROP", "REFERENCES", "TRUNCATE"] as const;
export type SchemaPrivilege = (typeof SCHEMA_PRIVILEGES)[number];
export type TablePrivilege = (typeof TABLE_PRIVILEGES)[number];
export type Privilege = SchemaPrivilege | TablePrivilege;

export interface ObjectRef {
  readonly schema: string;
  readonly table: string | null;
  /** null: the whole table (or the schema). Otherwise sorted, distinct, non-empty. */
  readonly columns: readonly string[] | null;
}

export interface Grant {
  readonly grantee: Grantee;
  readonly privilege: Privilege;
  readonly object: ObjectRef;
}

/** A grant the catalog asks for, with the policies that explain it (`policy#3 Access in (public)`). */
export interface DesiredGrant extends Grant {
  readonly because: readonly string[];
}

/** A grant this service applied earlier, as recorded in the state schema. */
export interface RecordedGrant extends Grant {
  readonly because: readonly string[];
  readonly runId: string;
}

/** Stable key of a grantee. */
export function granteeKey(grantee: Grantee): string {
  return `${grantee.kind}:${grantee.name}`;
}

/**
 * Stable key of (grantee, object without columns, privilege): the unit the planner diffs.
 * Column subsets of one table share one slot, so full-table <-> column-subset moves are seen as one change.
 */
export function slotKey(grantee: Grantee, schema: string, table: string | null, privilege: Privilege): string {
  return JSON.stringify([grantee.kind, grantee.name, schema, table, privilege]);
}

export function grantSlotKey(grant: Grant): string {
  return slotKey(grant.grantee, grant.object.schema, grant.object.table, grant.privilege);
}

export function tableKey(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
