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
/** Every privilege the service manages; GrantColumns stores a privilege as its index here. */
export const PRIVILEGES = [...SCHEMA_PRIVILEGES, ...TABLE_PRIVILEGES] as const;
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
  // Joined by NUL, which no mapped name contains: cheap to build on the hot path (DESIGN §6).
  return `${grantee.kind}\u0000${grantee.name}\u0000${schema}\u0000${table === null ? "" : `t${table}`}\u0000${privilege}`;
}

export function grantSlotKey(grant: Grant): string {
  return slotKey(grant.grantee, grant.object.schema, grant.object.table, grant.privilege);
}

export function tableKey(schema: string, table: string): string {
  return `${schema}\u0000${table}`;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const PRIVILEGE_INDEX: Readonly<Record<Privilege, number>> = Object.fromEntries(
  [...SCHEMA_PRIVILEGES, ...TABLE_PRIVILEGES].map((p, i) => [p, i]),
) as Record<Privilege, number>;

/**
 * Slot lookups without a string key per grant (DESIGN §6): an object id (schema, table) and a
 * grantee x privilege id, both small integers, index a two-level map. Each distinct name string is
 * hashed once; no key is allocated per lookup.
 */
export class SlotMap<T> {
  readonly #grantees = { group: new Map<string, number>(), role: new Map<string, number>() };
  readonly #objects = new Map<string, Map<string | null, number>>();
  readonly #slots: (Map<number, T> | undefined)[] = [];
  #granteeCount = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(grant: Grant): T | undefined {
    return this.getAt(grant.grantee, grant.object.schema, grant.object.table, grant.privilege);
  }

  set(grant: Grant, value: T): void {
    this.#setAt(grant.grantee, grant.object.schema, grant.object.table, grant.privilege, value);
  }

  getAt(grantee: Grantee, schema: string, table: string | null, privilege: Privilege): T | undefined {
    const o = this.#objects.get(schema)?.get(table);
    const g = this.#grantees[grantee.kind].get(grantee.name);
    if (o === undefined || g === undefined) return undefined;
    return this.#slots[o]?.get(g * 16 + PRIVILEGE_INDEX[privilege]);
  }

  #setAt(grantee: Grantee, schema: string, table: string | null, privilege: Privilege, value: T): void {
    const o = this.#objectId(schema, table);
    let inner = this.#slots[o];
    if (inner === undefined) this.#slots[o] = inner = new Map();
    const key = this.#innerId(grantee, privilege);
    if (!inner.has(key)) this.#size++;
    inner.set(key, value);
  }

  setAt(grantee: Grantee, schema: string, table: string | null, privilege: Privilege, value: T): void {
    this.#setAt(grantee, schema, table, privilege, value);
  }

  *values(): Generator<T> {
    for (const inner of this.#slots) if (inner !== undefined) yield* inner.values();
  }

  #objectId(schema: string, table: string | null): number {
    let tables = this.#objects.get(schema);
    if (tables === undefined) this.#objects.set(schema, (tables = new Map()));
    let o = tables.get(table);
    if (o === undefined) {
      o = this.#slots.length;
      tables.set(table, o);
      this.#slots.push(undefined);
    }
    return o;
  }

  #innerId(grantee: Grantee, privilege: Privilege): number {
    const names = this.#grantees[grantee.kind];
    let g = names.get(grantee.name);
    if (g === undefined) names.set(grantee.name, (g = this.#granteeCount++));
    return g * 16 + PRIVILEGE_INDEX[privilege];
  }
}
