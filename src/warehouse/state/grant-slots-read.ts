import {
  compareStrings,
  type Dialect,
  type Grantee,
  type Privilege,
  type RecordedGrant,
  SCHEMA_PRIVILEGES,
  TABLE_PRIVILEGES,
} from "../../core/grants.js";
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
export async function readRecordedGrants(executor: SqlExecutor, stateSchema: string, pageRows = DEFAULT_PAGE_ROWS): Promise<RecordedGrant[]> {
  if (!(await stateTableExists(executor, stateSchema, "grant_slots"))) return [];
  return recordedGrantsOf(await readGrantSlotRows(executor, stateSchema, pageRows));
}

/** Names, grantees, run ids and policy lists met while reading, each kept once. */
class RowReader {
  readonly grantees = { group: new Names(), role: new Names() };
  readonly granteeObjects = { group: [] as Grantee[], role: [] as Grantee[] };
  readonly schemas = new Names();
  readonly tables = new Names();
  readonly #policies = new Map<string, readonly string[]>();
  readonly #runIds = new Map<string, string>();

  policies(text: string): readonly string[] {
    let list = this.#policies.get(text);
    if (list === undefined) this.#policies.set(text, (list = JSON.parse(text) as string[]));
    return list;
  }

  runId(runId: string): string {
    let run = this.#runIds.get(runId);
    if (run === undefined) this.#runIds.set(runId, (run = runId));
    return run;
  }
}

/** Per row, the small-integer sort keys of its slot form; ids become ranks before sorting. */
interface RowKeys {
  readonly grantee: Uint32Array;
  readonly schema: Uint32Array;
  readonly table: Uint32Array;
  readonly form: Uint32Array;
}

/**
 * The grants of one row, one per table it lists (or the schema-level grant), written from index
 * `at` on; the row's names, column list and policies are read once and shared by its grants.
 */
function readRow(row: Row, tables: readonly string[] | null, at: number, reader: RowReader, keys: RowKeys, grants: RecordedGrant[]): void {
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
  let list = columns === null ? null : (JSON.parse(stringOf(row, "columns")) as string[]);
  if (list !== null && !isSortedSet(list)) list = [...new Set(list)].sort(compareStrings);
  const because = policies === null ? [] : reader.policies(stringOf(row, "policies"));
  const run = reader.runId(runId);
  const schemaName = reader.schemas.names[schemaId]!;
  const count = tables === null ? 1 : tables.length;
  for (let k = 0; k < count; k++) {
    const i = at + k;
    const tableId = tables === null ? -1 : reader.tables.id(tables[k]!);
    keys.grantee[i] = granteeId * 2 + (kind === "role" ? 1 : 0);
    keys.schema[i] = schemaId;
    keys.table[i] = tableId + 1;
    keys.form[i] = rank * 2 + (list === null ? 0 : 1);
    const table = tableId < 0 ? null : reader.tables.names[tableId]!;
    grants[i] = { grantee: granteeObject, privilege: privilege as Privilege, object: { schema: schemaName, table, columns: list }, because, runId: run };
  }
}

/** The order of grantSlotKey: kind ("group" < "role"), grantee, schema, table (schema level first), privilege. */
function slotOrder(count: number, reader: RowReader, keys: RowKeys): Uint32Array {
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
 * The rows of grant_slots as RecordedGrants, one per slot form: each row expanded into the slots it
 * lists (table-lists.ts). Hot on large targets (DESIGN §6): no key string per slot; names, grantees,
 * run ids and policy lists are shared between grants; each row is read once, in the order it came,
 * and the grants are ordered by the ranks of their names (small integers), not by comparing strings.
 */
export function recordedGrantsOf(rows: readonly Row[]): RecordedGrant[] {
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
  const keys: RowKeys = { grantee: new Uint32Array(count), schema: new Uint32Array(count), table: new Uint32Array(count), form: new Uint32Array(count) };
  const grants: RecordedGrant[] = new Array<RecordedGrant>(count);
  for (let r = 0, at = 0; r < rows.length; r++) {
    readRow(rows[r]!, lists[r]!, at, reader, keys, grants);
    at += lists[r] === null ? 1 : lists[r]!.length;
  }
  const order = slotOrder(count, reader, keys);
  const sameSlot = (i: number, j: number): boolean =>
    keys.grantee[i] === keys.grantee[j] && keys.schema[i] === keys.schema[j] && keys.table[i] === keys.table[j] && keys.form[i] === keys.form[j];
  const recorded: RecordedGrant[] = [];
  for (let start = 0; start < count; ) {
    const i = order[start]!;
    let end = start + 1;
    while (end < count && sameSlot(order[end]!, i)) end++;
    recorded.push(end === start + 1 ? grants[i]! : mergedGrant(order.subarray(start, end), grants));
    start = end;
  }
  return recorded;
}

/**
 * Several rows of one slot form (the parts of a split column list): one grant with
 * their columns and policies; the greatest run id names the run.
 */
function mergedGrant(rowIds: Uint32Array, grants: readonly RecordedGrant[]): RecordedGrant {
  const first = grants[rowIds[0]!]!;
  const columns: string[] = [];
  const because: string[] = [];
  let runId = first.runId;
  for (const i of rowIds) {
    const grant = grants[i]!;
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
