import {
  compareStrings,
  type Dialect,
  type Grantee,
  type Privilege,
  type RecordedGrant,
  SCHEMA_PRIVILEGES,
  TABLE_PRIVILEGES,
} from "../../core/grants.js";
import { GrantColumns, type GrantRegistry, PRIVILEGE_ID } from "../../core/grant-columns.js";
import { quoteIdent, quoteLiteral } from "../../core/sql.js";
import { SyncError } from "../../errors.js";
import type { Row, SqlExecutor } from "../executor.js";
import { stateTableExists, stringOf } from "./sql.js";
import { parseTables } from "./table-lists.js";

/** Sort rank of each privilege name: slots sort by the name, as grantSlotKey does. */
const PRIVILEGE_RANK: ReadonlyMap<string, number> = new Map(
  [...SCHEMA_PRIVILEGES, ...TABLE_PRIVILEGES].sort(compareStrings).map((privilege, rank) => [privilege, rank]),
);

/**
 * Rows per page of the state read: a row is at most about 14 KB (grant-slots-write.ts), so a page
 * stays under the Data API's 100 MB result (aws-facts §5.3) whatever the rows hold.
 */
export const DEFAULT_PAGE_ROWS = 5_000;

/**
 * PostgreSQL has no such cap, and each page sorts the whole table again (row_key has no index, as
 * on Redshift): 10x fewer pages cut the state read of a 10k-table target (40k rows) from nine
 * sorts to one. The rows are kept whole either way.
 */
export const POSTGRES_PAGE_ROWS = 50_000;

/** Distinct names met while reading, numbered in order of appearance; ranks() numbers them in sort order. */
class Names {
  readonly #ids = new Map<string, number>();
  /** By id: the first string met of each name, shared by every grant that names it. */
  readonly names: string[] = [];

  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      this.#ids.set(name, (id = this.names.length));
      this.names.push(name);
    }
    return id;
  }

  /** The rank of each id among the sorted names. */
  ranks(): Uint32Array {
    const order = this.names.map((_, id) => id).sort((a, b) => compareStrings(this.names[a]!, this.names[b]!));
    const ranks = new Uint32Array(order.length);
    for (const [rank, id] of order.entries()) ranks[id] = rank;
    return ranks;
  }
}

/**
 * Row numbers ordered by small-integer keys, the most significant first: a stable counting sort per
 * key, from the least significant (LSD radix sort), linear in the rows.
 */
function orderByKeys(count: number, keys: readonly { readonly values: Uint32Array; readonly size: number }[]): Uint32Array {
  let order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  let next = new Uint32Array(count);
  for (let k = keys.length - 1; k >= 0; k--) {
    const { values, size } = keys[k]!;
    const starts = new Uint32Array(size + 1);
    for (let i = 0; i < count; i++) starts[values[i]! + 1]!++;
    for (let v = 0; v < size; v++) starts[v + 1]! += starts[v]!;
    for (let j = 0; j < count; j++) {
      const i = order[j]!;
      next[starts[values[i]!]!++] = i;
    }
    [order, next] = [next, order];
  }
  return order;
}

/** The columns recordedGrantsOf reads (row_key orders the pages). */
export const GRANT_SLOT_COLUMNS = "grantee_kind, grantee, schema_name, privilege, columns, policies, tables, row_key, run_ref";

/** Rows of `where` (or all) with a row key after `from` (or from it, inclusive), at most `limit`, in key order. */
function pageQuery(stateSchema: string, dialect: Dialect, where: string | null, from: { key: string; inclusive: boolean } | null, limit: number): string {
  const terms = [...(where === null ? [] : [`(${where})`]), ...(from === null ? [] : [`row_key ${from.inclusive ? ">=" : ">"} ${quoteLiteral(from.key, dialect)}`])];
  return `SELECT ${GRANT_SLOT_COLUMNS} FROM ${quoteIdent(stateSchema)}.grant_slots${terms.length === 0 ? "" : ` WHERE ${terms.join(" AND ")}`} ORDER BY row_key LIMIT ${limit}`;
}

function keyQuery(stateSchema: string, dialect: Dialect, where: string | null, key: string): string {
  return `SELECT ${GRANT_SLOT_COLUMNS} FROM ${quoteIdent(stateSchema)}.grant_slots WHERE ${where === null ? "" : `(${where}) AND `}row_key = ${quoteLiteral(key, dialect)}`;
}

/**
 * The rows of `grant_slots` (those `where` selects, or all), read in pages of at most `pageRows` by
 * keyset on row_key, so no one result grows with the state (the Data API returns at most 100 MB
 * per result). Row keys are hashes of distinct rows, so ties are rare: the rows of the last key of
 * a full page are read again with the next page, and a key with more rows than a page on its own.
 */
export async function readGrantSlotRows(executor: SqlExecutor, stateSchema: string, pageRows = DEFAULT_PAGE_ROWS, where: string | null = null): Promise<Row[]> {
  const { dialect } = executor;
  const rows: Row[] = [];
  let from: { key: string; inclusive: boolean } | null = null;
  for (;;) {
    const page = await executor.query(pageQuery(stateSchema, dialect, where, from, pageRows));
    if (page.length < pageRows) {
      for (const row of page) rows.push(row);
      return rows;
    }
    const last = stringOf(page[page.length - 1]!, "row_key");
    let complete = page.length;
    while (complete > 0 && page[complete - 1]!.row_key === last) complete--;
    for (let i = 0; i < complete; i++) rows.push(page[i]!);
    if (complete > 0) {
      from = { key: last, inclusive: true };
    } else {
      for (const row of await executor.query(keyQuery(stateSchema, dialect, where, last))) rows.push(row);
      from = { key: last, inclusive: false };
    }
  }
}

function isSortedSet(columns: readonly string[]): boolean {
  for (let i = 1; i < columns.length; i++) if (!(columns[i - 1]! < columns[i]!)) return false;
  return true;
}

/**
 * What this service granted, one RecordedGrant per (grantee, schema, table, privilege) and form:
 * the rows of a split column list are merged, columns sorted and distinct; sorted by slot as
 * grantSlotKey orders them, the whole-table form first. [] before the first migration, so a plan
 * works on a fresh target.
 * If a slot has both a table-level row and column rows (only a crash between two versions could
 * write that), both come back as two grants of the same slot, and the planner forgets the wrong one.
 */
export async function readRecordedGrants(executor: SqlExecutor, stateSchema: string, pageRows?: number): Promise<RecordedGrant[]> {
  return recordedGrantsOf(await readRecordedRows(executor, stateSchema, pageRows));
}

/** Every row of grant_slots, for recordedGrantsOf or recordedColumnsOf; [] before the first migration. */
export async function readRecordedRows(executor: SqlExecutor, stateSchema: string, pageRows = executor.dialect === "postgres" ? POSTGRES_PAGE_ROWS : DEFAULT_PAGE_ROWS): Promise<Row[]> {
  if (!(await stateTableExists(executor, stateSchema, "grant_slots"))) return [];
  return readGrantSlotRows(executor, stateSchema, pageRows);
}

/** Names, grantees, run ids, column and policy lists met while reading, each kept once. */
class RowReader {
  readonly grantees = { group: new Names(), role: new Names() };
  readonly granteeObjects = { group: [] as Grantee[], role: [] as Grantee[] };
  readonly schemas = new Names();
  readonly tables = new Names();
  readonly #policies = new Map<string, readonly string[]>();
  readonly #columns = new Map<string, string[]>();
  readonly #runIds = new Map<string, string>();

  policies(text: string): readonly string[] {
    let list = this.#policies.get(text);
    if (list === undefined) this.#policies.set(text, (list = JSON.parse(text) as string[]));
    return list;
  }

  /** A column list, sorted and distinct; rows with the same text share one list. */
  columns(text: string): string[] {
    let list = this.#columns.get(text);
    if (list === undefined) {
      list = JSON.parse(text) as string[];
      if (!isSortedSet(list)) list = [...new Set(list)].sort(compareStrings);
      this.#columns.set(text, list);
    }
    return list;
  }

  runId(runId: string): string {
    let run = this.#runIds.get(runId);
    if (run === undefined) this.#runIds.set(runId, (run = runId));
    return run;
  }
}

/** What one row says about every slot it lists: read once, shared by them. */
interface RowFields {
  readonly grantee: Grantee;
  readonly privilege: Privilege;
  readonly schema: string;
  readonly columns: readonly string[] | null;
  readonly because: readonly string[];
  readonly runId: string;
}

/** Per slot, the small-integer sort keys of its slot form; ids become ranks before sorting. */
interface SlotKeys {
  readonly grantee: Uint32Array;
  readonly schema: Uint32Array;
  readonly table: Uint32Array;
  readonly form: Uint32Array;
}

/**
 * Every slot the rows list, one per table of a row (or the row's schema-level slot): the row it
 * comes from, its table (by id in `tables`, -1 for the schema itself), and its slot-form keys.
 */
interface Slots {
  readonly count: number;
  readonly fields: readonly RowFields[];
  readonly rowOf: Uint32Array;
  readonly tableOf: Int32Array;
  readonly tables: readonly string[];
  readonly keys: SlotKeys;
}

/** The fields of one row; its slots' keys and tables written from index `at` on. */
function readRow(row: Row, tables: readonly string[] | null, at: number, reader: RowReader, slots: Slots): RowFields {
  // Named property reads, not row[column]: rows share one shape, and these reads stay fast.
  const { grantee_kind: kind, grantee, schema_name: schema, privilege, policies, run_ref: runId, columns } = row;
  const rank = PRIVILEGE_RANK.get(privilege as string);
  if ((kind !== "group" && kind !== "role") || rank === undefined) {
    throw new SyncError("TARGET_FAILED", `state schema row has grantee kind ${JSON.stringify(kind)} and privilege ${JSON.stringify(privilege)}`);
  }
  if (typeof grantee !== "string" || typeof schema !== "string" || typeof runId !== "string") {
    throw new SyncError("TARGET_FAILED", `state schema row has grantee ${JSON.stringify(grantee)}, schema ${JSON.stringify(schema)} and run ${JSON.stringify(runId)}`);
  }
  const granteeId = reader.grantees[kind].id(grantee);
  const granteeObject = (reader.granteeObjects[kind][granteeId] ??= { kind, name: reader.grantees[kind].names[granteeId]! });
  const schemaId = reader.schemas.id(schema);
  const list = columns === null ? null : reader.columns(stringOf(row, "columns"));
  const { keys, rowOf, tableOf } = slots;
  const count = tables === null ? 1 : tables.length;
  for (let k = 0; k < count; k++) {
    const i = at + k;
    const tableId = tables === null ? -1 : reader.tables.id(tables[k]!);
    rowOf[i] = slots.fields.length;
    tableOf[i] = tableId;
    keys.grantee[i] = granteeId * 2 + (kind === "role" ? 1 : 0);
    keys.schema[i] = schemaId;
    keys.table[i] = tableId + 1;
    keys.form[i] = rank * 2 + (list === null ? 0 : 1);
  }
  const because = policies === null ? [] : reader.policies(stringOf(row, "policies"));
  return { grantee: granteeObject, privilege: privilege as Privilege, schema: reader.schemas.names[schemaId]!, columns: list, because, runId: reader.runId(runId) };
}

/** The slots of the rows, each row expanded into the slots it lists (table-lists.ts). */
function slotsOf(rows: readonly Row[]): { slots: Slots; reader: RowReader } {
  const lists: (string[] | null)[] = new Array<string[] | null>(rows.length);
  let count = 0;
  for (let r = 0; r < rows.length; r++) {
    const tables = rows[r]!.tables;
    if (tables !== null && typeof tables !== "string") throw new SyncError("TARGET_FAILED", `state schema row has tables ${JSON.stringify(tables)}`);
    const list = tables === null ? null : parseTables(tables);
    lists[r] = list;
    count += list === null ? 1 : list.length;
  }
  const reader = new RowReader();
  const fields: RowFields[] = [];
  const keys: SlotKeys = { grantee: new Uint32Array(count), schema: new Uint32Array(count), table: new Uint32Array(count), form: new Uint32Array(count) };
  const slots: Slots = { count, fields, rowOf: new Uint32Array(count), tableOf: new Int32Array(count), tables: reader.tables.names, keys };
  for (let r = 0, at = 0; r < rows.length; r++) {
    fields.push(readRow(rows[r]!, lists[r]!, at, reader, slots));
    at += lists[r] === null ? 1 : lists[r]!.length;
  }
  return { slots, reader };
}

/** The order of grantSlotKey: kind ("group" < "role"), grantee, schema, table (schema level first), privilege. */
function slotOrder(count: number, reader: RowReader, keys: SlotKeys): Uint32Array {
  const groupRanks = reader.grantees.group.ranks();
  const roleRanks = reader.grantees.role.ranks();
  const schemaRanks = reader.schemas.ranks();
  const tableRanks = reader.tables.ranks();
  for (let i = 0; i < count; i++) {
    const id = keys.grantee[i]! >>> 1;
    keys.grantee[i] = keys.grantee[i]! & 1 ? groupRanks.length + roleRanks[id]! : groupRanks[id]!;
    keys.schema[i] = schemaRanks[keys.schema[i]!]!;
    if (keys.table[i] !== 0) keys.table[i] = 1 + tableRanks[keys.table[i]! - 1]!;
  }
  return orderByKeys(count, [
    { values: keys.grantee, size: groupRanks.length + roleRanks.length },
    { values: keys.schema, size: schemaRanks.length },
    { values: keys.table, size: tableRanks.length + 1 },
    { values: keys.form, size: PRIVILEGE_RANK.size * 2 },
  ]);
}

/**
 * Calls `each` with the slots of every slot form, in the order of grantSlotKey: one slot, or the
 * several rows of one form (the parts of a split column list, or a crash's leftovers).
 */
function eachSlotForm(rows: readonly Row[], each: (slots: Slots, form: Uint32Array) => void): void {
  const { slots, reader } = slotsOf(rows);
  const { count, keys } = slots;
  const order = slotOrder(count, reader, keys);
  const sameSlot = (i: number, j: number): boolean =>
    keys.grantee[i] === keys.grantee[j] && keys.schema[i] === keys.schema[j] && keys.table[i] === keys.table[j] && keys.form[i] === keys.form[j];
  for (let start = 0; start < count; ) {
    const i = order[start]!;
    let end = start + 1;
    while (end < count && sameSlot(order[end]!, i)) end++;
    each(slots, order.subarray(start, end));
    start = end;
  }
}

/** The grant of one slot, from its row's shared fields. */
function grantOf(slots: Slots, i: number): RecordedGrant {
  const { grantee, privilege, schema, columns, because, runId } = slots.fields[slots.rowOf[i]!]!;
  const table = slots.tableOf[i]!;
  return { grantee, privilege, object: { schema, table: table < 0 ? null : slots.tables[table]!, columns }, because, runId };
}

/**
 * The rows of grant_slots as RecordedGrants, one per slot form: each row expanded into the slots it
 * lists (table-lists.ts). Hot on large targets (DESIGN §6): no key string per slot; names, grantees,
 * run ids, column and policy lists are shared between grants; each row is read once, in the order it
 * came, and the grants are ordered by the ranks of their names (small integers), not by comparing strings.
 */
export function recordedGrantsOf(rows: readonly Row[]): RecordedGrant[] {
  const recorded: RecordedGrant[] = [];
  eachSlotForm(rows, (slots, form) => recorded.push(form.length === 1 ? grantOf(slots, form[0]!) : mergedGrant(form, slots)));
  return recorded;
}

/**
 * The same grants as recordedGrantsOf, as the planner's integer columns over `registry` (the run
 * ids left out: the plan does not read them), without an object per slot: each row's grantee,
 * column list and policies are interned once, each slot adds its object.
 */
export function recordedColumnsOf(rows: readonly Row[], registry: GrantRegistry): GrantColumns {
  const recorded = new GrantColumns();
  const rowIds: { grantee: number; columns: number; because: number }[] = [];
  eachSlotForm(rows, (slots, form) => {
    if (form.length > 1) {
      const g = mergedGrant(form, slots);
      const object = registry.objectId(g.object.schema, g.object.table);
      recorded.push(registry.granteeId(g.grantee), PRIVILEGE_ID[g.privilege], object, registry.columnsId(g.object.columns), registry.becauseId(g.because));
      return;
    }
    const i = form[0]!;
    const row = slots.rowOf[i]!;
    const fields = slots.fields[row]!;
    const ids = (rowIds[row] ??= { grantee: registry.granteeId(fields.grantee), columns: registry.columnsId(fields.columns), because: registry.becauseId(fields.because) });
    const table = slots.tableOf[i]!;
    recorded.push(ids.grantee, PRIVILEGE_ID[fields.privilege], registry.objectId(fields.schema, table < 0 ? null : slots.tables[table]!), ids.columns, ids.because);
  });
  return recorded;
}

/**
 * Several rows of one slot form (the parts of a split column list): one grant with
 * their columns and policies; the greatest run id names the run.
 */
function mergedGrant(form: Uint32Array, slots: Slots): RecordedGrant {
  const first = grantOf(slots, form[0]!);
  const columns: string[] = [];
  const because: string[] = [];
  let runId = first.runId;
  for (const i of form) {
    const grant = grantOf(slots, i);
    columns.push(...(grant.object.columns ?? []));
    for (const reason of grant.because) if (!because.includes(reason)) because.push(reason);
    if (grant.runId > runId) runId = grant.runId;
  }
  return {
    ...first,
    object: { ...first.object, columns: first.object.columns === null ? null : [...new Set(columns)].sort(compareStrings) },
    because,
    runId,
  };
}
