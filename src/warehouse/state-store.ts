import type { CatalogSnapshot, TagMap } from "../catalog/model.js";
import {
  compareStrings,
  SCHEMA_PRIVILEGES,
  TABLE_PRIVILEGES,
  type Dialect,
  type Grant,
  type Grantee,
  type Privilege,
  type RecordedGrant,
  SlotMap,
} from "../core/grants.js";
import { MAX_BATCH_STATEMENTS } from "../core/render.js";
import { byteLength, quoteIdent, quoteLiteral, quoteNullable } from "../core/sql.js";
import { SyncError } from "../errors.js";
import type { Row, SqlExecutor, SqlValue } from "./executor.js";

/**
 * The state schema (DESIGN §4.3, migrations/): the grants this service applied (`grant_slots`, and
 * the per-column `grants` rows of 0001 until each slot is written again), the tag assignments last
 * seen and the run log. All SQL goes through the executor and is valid in both
 * dialects; timestamps come from the caller's Date, never the database clock, so what is written
 * is reproducible.
 */

export const DEFAULT_MAX_STATEMENT_BYTES = 100_000;
/**
 * Bytes of `because` and of one row's `columns` (Redshift counts VARCHAR lengths in bytes): together
 * they keep a row under the Data API's 64 KB per result row (aws-facts §5.3) and its INSERT under
 * 100 KB, so a long column list is split over rows.
 */
const MAX_BECAUSE_BYTES = 16_384;
const MAX_COLUMNS_BYTES = 32_768;
const MAX_MESSAGE_BYTES = 4096;

/** `'2026-11-23 19:00:00.000'::TIMESTAMP` in UTC: TIMESTAMP has no zone in either dialect. */
export function timestampLiteral(at: Date, dialect: Dialect): string {
  return `${quoteLiteral(at.toISOString().replace("T", " ").replace("Z", ""), dialect)}::TIMESTAMP`;
}

export async function stateTableExists(executor: SqlExecutor, stateSchema: string, table: string): Promise<boolean> {
  const rows = await executor.query(
    `SELECT 1 AS present FROM information_schema.tables WHERE table_schema = ${quoteLiteral(stateSchema, executor.dialect)} AND table_name = ${quoteLiteral(table, executor.dialect)}`,
  );
  return rows.length > 0;
}

/** grant_key of 0001's `grants`: one row per grantee x object x privilege, and per column for a column grant. */
export function grantRowKey(grant: Grant, column: string | null): string {
  return JSON.stringify([grant.grantee.kind, grant.grantee.name, grant.object.schema, grant.object.table, column, grant.privilege]);
}

/**
 * Statements `prefix item, item, ... suffix`, each at most `maxBytes` UTF-8 bytes. An item that
 * cannot fit even alone is an error rather than a statement the target would reject.
 */
function boundedStatements(prefix: string, items: readonly string[], suffix: string, maxBytes: number): string[] {
  const statements: string[] = [];
  const fixed = byteLength(prefix) + byteLength(suffix);
  let current: string[] = [];
  let size = fixed;
  for (const item of items) {
    const bytes = byteLength(item);
    if (fixed + bytes > maxBytes) {
      throw new SyncError("TARGET_FAILED", `a state row of ${bytes} bytes does not fit in a statement of ${maxBytes} bytes: ${item.slice(0, 200)}`);
    }
    if (current.length > 0 && size + 2 + bytes > maxBytes) {
      statements.push(`${prefix}${current.join(", ")}${suffix}`);
      current = [];
      size = fixed;
    }
    size += (current.length > 0 ? 2 : 0) + bytes;
    current.push(item);
  }
  if (current.length > 0) statements.push(`${prefix}${current.join(", ")}${suffix}`);
  return statements;
}

/** The explanation as a JSON array, cut to what the column holds, saying how many were left out. */
function becauseText(because: readonly string[]): string {
  let kept = [...because];
  let text = JSON.stringify(kept);
  while (byteLength(text) > MAX_BECAUSE_BYTES && kept.length > 0) {
    kept = kept.slice(0, Math.floor(kept.length / 2));
    text = JSON.stringify([...kept, `... and ${because.length - kept.length} more`]);
  }
  return text;
}

function truncateBytes(text: string, maxBytes: number): string {
  if (byteLength(text) <= maxBytes) return text;
  const cut = Buffer.from(text, "utf8").subarray(0, maxBytes - 3).toString("utf8").replace(/\uFFFD$/, "");
  return `${cut}...`;
}

/**
 * One change to the recorded state of a slot (grantee x schema/table x privilege). The changes of
 * one slot in one batch (render.ts keeps a plan step whole) say what the slot holds afterwards:
 * - the whole-table (or schema) form: the last of its `record`/`forget` wins;
 * - the column form: the columns of its `record`s, minus those a later `forget` names, and NOTHING
 *   else. A `record` of columns lists every column the slot keeps, not only the new ones, and a
 *   `forget` of some columns without a `record` of those that stay forgets the whole column form.
 *   (The state store cannot keep "the other recorded columns": it renders SQL without reading.)
 * A form the batch does not touch keeps its rows.
 */
export interface StateRowChange {
  readonly op: "record" | "forget";
  readonly grant: Grant;
  readonly because: readonly string[];
  /** Nothing was recorded for this grant's slot: its rows need no DELETE before the INSERT. */
  readonly fresh?: boolean;
}

/** slot_key of `grant_slots`: the JSON of grantee kind, grantee, schema, table and privilege. */
export function recordedSlotKey(grant: Grant): string {
  return JSON.stringify([grant.grantee.kind, grant.grantee.name, grant.object.schema, grant.object.table, grant.privilege]);
}

/** What one batch leaves in one slot. */
interface SlotWrite {
  readonly grant: Grant;
  needsDelete: boolean;
  /** undefined: the whole-table row is untouched; null: forgotten; else recorded for these reasons. */
  full: readonly string[] | null | undefined;
  /** The batch's changes to the column form, in order; undefined when it touches none. */
  columnChanges: StateRowChange[] | undefined;
}

/** The column form after the changes: see StateRowChange. */
function finalColumns(changes: readonly StateRowChange[]): { columns: string[]; because: readonly string[] } {
  const only = changes.length === 1 ? changes[0]! : undefined;
  if (only?.op === "record") return { columns: [...(only.grant.object.columns ?? [])], because: only.because };
  const kept = new Set<string>();
  let because: readonly string[] = [];
  for (const change of changes) {
    for (const column of change.grant.object.columns ?? []) {
      if (change.op === "record") kept.add(column);
      else kept.delete(column);
    }
    if (change.op === "record") because = change.because;
  }
  return { columns: [...kept].sort(compareStrings), because };
}

/**
 * `columns` literals of one slot: the JSON array in one row, or split over rows when it does not
 * fit in MAX_COLUMNS_BYTES (a table may have 1600 columns of 127 bytes).
 */
function columnListLiterals(columns: readonly string[], dialect: Dialect): string[] {
  const whole = quoteLiteral(JSON.stringify(columns), dialect);
  if (byteLength(whole) <= MAX_COLUMNS_BYTES) return [whole];
  const chunks: string[][] = [[]];
  let bytes = 0;
  for (const column of columns) {
    const size = byteLength(quoteLiteral(JSON.stringify(column), dialect)) + 1;
    if (chunks[chunks.length - 1]!.length > 0 && bytes + size > MAX_COLUMNS_BYTES) {
      chunks.push([]);
      bytes = 0;
    }
    chunks[chunks.length - 1]!.push(column);
    bytes += size;
  }
  return chunks.map((chunk) => quoteLiteral(JSON.stringify(chunk), dialect));
}

/** `INSERT INTO <schema>.grant_slots (...) VALUES `, followed by rows of slotRows. */
function slotInsertPrefix(stateSchema: string): string {
  return `INSERT INTO ${quoteIdent(stateSchema)}.grant_slots (slot_key, grantee_kind, grantee, schema_name, table_name, privilege, columns, because, run_id, granted_at) VALUES `;
}

/**
 * The `grant_slots` rows of one slot form: whole table (columns null) or a column list, split over
 * rows when long. `because` is a literal; `tail` is `run_id, granted_at)`.
 */
function slotRows(grant: Grant, key: string, columns: readonly string[] | null, because: string, tail: string, dialect: Dialect): string[] {
  const literal = (value: string | null): string => quoteNullable(value, dialect);
  const head = `(${key}, ${literal(grant.grantee.kind)}, ${literal(grant.grantee.name)}, ${literal(grant.object.schema)}, ${literal(grant.object.table)}, ${literal(grant.privilege)}, `;
  if (columns === null) return [`${head}NULL, ${because}, ${tail}`];
  return columnListLiterals(columns, dialect).map((list) => `${head}${list}, ${because}, ${tail}`);
}

/** One literal per explanation list: lists are shared by many grants (map.ts, recordedGrantsOf). */
function becauseLiterals(dialect: Dialect): (because: readonly string[]) => string {
  const literals = new Map<readonly string[], string>();
  return (because) => {
    let text = literals.get(because);
    if (text === undefined) literals.set(because, (text = quoteLiteral(becauseText(because), dialect)));
    return text;
  };
}

/**
 * State statements for a batch of changes (pure, so apply runs them in the batch's transaction).
 * Every slot form the batch touches is rewritten: its rows in `grant_slots` and, from before
 * migration 0002, in `grants` are deleted (unless every change of the slot is `fresh`), then its
 * final rows are inserted, one per slot form (a few when a column list is split).
 */
export function renderStateStatements(
  dialect: Dialect,
  stateSchema: string,
  changes: readonly StateRowChange[],
  runId: string,
  at: Date,
  maxStatementBytes = DEFAULT_MAX_STATEMENT_BYTES,
): string[] {
  const literal = (value: string | null): string => quoteNullable(value, dialect);
  const tail = `${literal(runId)}, ${timestampLiteral(at, dialect)})`;
  const becauseLiteral = becauseLiterals(dialect);

  const bySlot = new SlotMap<SlotWrite>();
  const slots: SlotWrite[] = [];
  for (const change of changes) {
    let slot = bySlot.get(change.grant);
    if (slot === undefined) {
      slot = { grant: change.grant, needsDelete: false, full: undefined, columnChanges: undefined };
      bySlot.set(change.grant, slot);
      slots.push(slot);
    }
    if (change.op === "forget" || change.fresh !== true) slot.needsDelete = true;
    if (change.grant.object.columns === null) slot.full = change.op === "record" ? change.because : null;
    else (slot.columnChanges ??= []).push(change);
  }

  const deleteSlots: string[] = [];
  const deleteFullRows: string[] = [];
  const deleteColumnRows: string[] = [];
  const deleteLegacy: string[] = [];
  const rows: string[] = [];
  for (const slot of slots) {
    const { grant } = slot;
    const key = literal(recordedSlotKey(grant));
    if (slot.needsDelete) {
      if (slot.full === undefined) deleteColumnRows.push(key);
      else if (slot.columnChanges === undefined) deleteFullRows.push(key);
      else deleteSlots.push(key);
      if (slot.full !== undefined) deleteLegacy.push(literal(grantRowKey(grant, null)));
      // 0001 kept a row per column: the columns the batch names are all the slot had (StateRowChange).
      const named = new Set((slot.columnChanges ?? []).flatMap((c) => c.grant.object.columns ?? []));
      for (const column of named) deleteLegacy.push(literal(grantRowKey(grant, column)));
    }
    if (slot.full !== undefined && slot.full !== null) rows.push(...slotRows(grant, key, null, becauseLiteral(slot.full), tail, dialect));
    if (slot.columnChanges !== undefined) {
      const { columns, because } = finalColumns(slot.columnChanges);
      if (columns.length > 0) rows.push(...slotRows(grant, key, columns, becauseLiteral(because), tail, dialect));
    }
  }
  const table = `${quoteIdent(stateSchema)}.grant_slots`;
  const legacy = `${quoteIdent(stateSchema)}.grants`;
  return [
    ...boundedStatements(`DELETE FROM ${table} WHERE slot_key IN (`, deleteSlots, ")", maxStatementBytes),
    ...boundedStatements(`DELETE FROM ${table} WHERE columns IS NULL AND slot_key IN (`, deleteFullRows, ")", maxStatementBytes),
    ...boundedStatements(`DELETE FROM ${table} WHERE columns IS NOT NULL AND slot_key IN (`, deleteColumnRows, ")", maxStatementBytes),
    ...boundedStatements(`DELETE FROM ${legacy} WHERE grant_key IN (`, deleteLegacy, ")", maxStatementBytes),
    ...boundedStatements(slotInsertPrefix(stateSchema), rows, "", maxStatementBytes),
  ];
}

function stringOf(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") {
    throw new SyncError("TARGET_FAILED", `state schema row has ${JSON.stringify(value)} in ${column}`);
  }
  return value;
}

function nullableString(row: Row, column: string): string | null {
  return row[column] === null || row[column] === undefined ? null : stringOf(row, column);
}

function numberOrNull(value: SqlValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Timestamps as ISO strings, whether the adapter parsed them (ISO) or passed them as text (`2026-11-23 19:00:00`, UTC). */
function isoTimestamp(value: SqlValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  const date = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) ? text : `${text.replace(" ", "T")}Z`);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** Sort rank of each privilege name: slots sort by the name, as grantSlotKey does. */
const PRIVILEGE_RANK: ReadonlyMap<string, number> = new Map(
  [...SCHEMA_PRIVILEGES, ...TABLE_PRIVILEGES].sort(compareStrings).map((privilege, rank) => [privilege, rank]),
);

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

/** The rows of the grant tables that exist: `grant_slots` (0002) and the per-column `grants` of 0001. */
function recordedRowsQuery(stateSchema: string, tables: ReadonlySet<string>): string {
  const schema = quoteIdent(stateSchema);
  // granted_at as text: only compared, and 'YYYY-MM-DD HH:MM:SS[.ffffff]' orders as text does.
  const common = "grantee_kind, grantee, schema_name, table_name, privilege, because, run_id, CAST(granted_at AS VARCHAR(40)) AS granted_at";
  const parts: string[] = [];
  if (tables.has("grant_slots")) parts.push(`SELECT ${common}, columns, CAST(NULL AS VARCHAR(512)) AS column_name FROM ${schema}.grant_slots`);
  if (tables.has("grants")) parts.push(`SELECT ${common}, CAST(NULL AS VARCHAR(65535)) AS columns, column_name FROM ${schema}.grants`);
  // One statement: one snapshot, even while an apply moves a slot from `grants` to `grant_slots`.
  return parts.join(" UNION ALL ");
}

function isSortedSet(columns: readonly string[]): boolean {
  for (let i = 1; i < columns.length; i++) if (!(columns[i - 1]! < columns[i]!)) return false;
  return true;
}

/**
 * What this service granted, one RecordedGrant per (grantee, schema, table, privilege) and form:
 * the rows of one slot form (a split column list, rows left by migration 0001) are merged, columns
 * sorted and distinct; sorted by slot as grantSlotKey orders them, the whole-table form first.
 * [] before the first migration, so a plan works on a fresh target.
 * If a slot has both a table-level row and column rows (only a crash between two versions could
 * write that), both come back as two grants of the same slot, and the planner forgets the wrong one.
 */
export async function readRecordedGrants(executor: SqlExecutor, stateSchema: string): Promise<RecordedGrant[]> {
  const tables = await grantTables(executor, stateSchema);
  if (tables.size === 0) return [];
  return recordedGrantsOf(await executor.query(recordedRowsQuery(stateSchema, tables)));
}

/** Which of `grant_slots` and `grants` exist: none before the first migration. */
async function grantTables(executor: SqlExecutor, stateSchema: string): Promise<Set<string>> {
  const rows = await executor.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = ${quoteLiteral(stateSchema, executor.dialect)} AND table_name IN ('grant_slots', 'grants')`,
  );
  return new Set(rows.map((row) => String(row.table_name)));
}

/**
 * Moves what the service recorded before migration 0002 (a row per column in `grants`) to
 * `grant_slots`, each slot keeping its explanation, run and time, so that reads stop paying for a
 * row per column. Run under the lease, after the migrations: transactions of INSERTs, then one
 * DELETE. A reader in between sees a slot in both tables and merges the two; a crash in between
 * leaves duplicate rows that read the same and go when their slot is next written.
 * Returns the number of slot forms moved (0 once done).
 */
export async function moveLegacyGrants(executor: SqlExecutor, stateSchema: string, maxStatementBytes = DEFAULT_MAX_STATEMENT_BYTES): Promise<number> {
  const tables = await grantTables(executor, stateSchema);
  if (!tables.has("grants") || !tables.has("grant_slots")) return 0;
  const rows = await executor.query(recordedRowsQuery(stateSchema, new Set(["grants"])));
  if (rows.length === 0) return 0;
  const { dialect } = executor;
  // A run wrote all its rows with one time (renderStateStatements' `at`): a moved slot keeps its run's.
  const tails = new Map<string, string>();
  const runTimes = new Map<string, string>();
  for (const row of rows) {
    const runId = stringOf(row, "run_id");
    const grantedAt = stringOf(row, "granted_at");
    if (!((runTimes.get(runId) ?? "") >= grantedAt)) runTimes.set(runId, grantedAt);
  }
  for (const [runId, grantedAt] of runTimes) tails.set(runId, `${quoteLiteral(runId, dialect)}, ${quoteLiteral(grantedAt, dialect)}::TIMESTAMP)`);
  const becauseLiteral = becauseLiterals(dialect);
  const grants = recordedGrantsOf(rows);
  const values = grants.flatMap((grant) =>
    slotRows(grant, quoteLiteral(recordedSlotKey(grant), dialect), grant.object.columns, becauseLiteral(grant.because), tails.get(grant.runId)!, dialect),
  );
  const inserts = boundedStatements(slotInsertPrefix(stateSchema), values, "", maxStatementBytes);
  for (let i = 0; i < inserts.length; i += MAX_BATCH_STATEMENTS) await executor.transaction(inserts.slice(i, i + MAX_BATCH_STATEMENTS));
  await executor.transaction([`DELETE FROM ${quoteIdent(stateSchema)}.grants`]);
  return grants.length;
}

/**
 * The rows of recordedRowsQuery as RecordedGrants. Hot on large targets (DESIGN §6): no key string
 * per row; names, grantees, run ids and explanations are shared between grants; each row is read
 * once, in the order it came, and the grants are ordered by the ranks of their names (small
 * integers), not by comparing strings.
 */
export function recordedGrantsOf(rows: readonly Row[]): RecordedGrant[] {
  const count = rows.length;
  const grantees = { group: new Names(), role: new Names() };
  const granteeObjects = { group: [] as Grantee[], role: [] as Grantee[] };
  const schemas = new Names();
  const tables = new Names();
  const becauseCache = new Map<string, readonly string[]>();
  const runIds = new Map<string, string>();
  // Per row: grantee id x 2 + 1 for a role; schema id; 0 for a schema-level row, else 1 + table id;
  // privilege rank x 2 + 1 for the column form. Ids become ranks before sorting.
  const granteeKeys = new Uint32Array(count);
  const schemaKeys = new Uint32Array(count);
  const tableKeys = new Uint32Array(count);
  const formKeys = new Uint32Array(count);
  const grants: RecordedGrant[] = new Array<RecordedGrant>(count);
  for (let i = 0; i < count; i++) {
    const row = rows[i]!;
    // Named property reads, not row[column]: rows share one shape, and these reads stay fast.
    const { grantee_kind: kind, grantee, schema_name: schema, table_name: table, privilege, because, run_id: runId, columns, column_name: column } = row;
    const rank = PRIVILEGE_RANK.get(privilege as string);
    if ((kind !== "group" && kind !== "role") || rank === undefined) {
      throw new SyncError("TARGET_FAILED", `state schema row has grantee kind ${JSON.stringify(kind)} and privilege ${JSON.stringify(privilege)}`);
    }
    if (typeof grantee !== "string" || typeof schema !== "string" || typeof runId !== "string" || (table !== null && typeof table !== "string")) {
      throw new SyncError("TARGET_FAILED", `state schema row has grantee ${JSON.stringify(grantee)}, schema ${JSON.stringify(schema)}, table ${JSON.stringify(table)} and run ${JSON.stringify(runId)}`);
    }
    const granteeId = grantees[kind].id(grantee);
    granteeKeys[i] = granteeId * 2 + (kind === "role" ? 1 : 0);
    const schemaId = schemas.id(schema);
    schemaKeys[i] = schemaId;
    const tableId = table === null ? -1 : tables.id(table);
    tableKeys[i] = tableId + 1;
    formKeys[i] = rank * 2 + (columns === null && column === null ? 0 : 1);

    const reasonsText = because === null ? "[]" : stringOf(row, "because");
    let reasons = becauseCache.get(reasonsText);
    if (reasons === undefined) becauseCache.set(reasonsText, (reasons = JSON.parse(reasonsText) as string[]));
    let run = runIds.get(runId);
    if (run === undefined) runIds.set(runId, (run = runId));
    let list = column !== null ? [stringOf(row, "column_name")] : columns === null ? null : (JSON.parse(stringOf(row, "columns")) as string[]);
    if (list !== null && !isSortedSet(list)) list = [...new Set(list)].sort(compareStrings);
    grants[i] = {
      grantee: (granteeObjects[kind][granteeId] ??= { kind, name: grantees[kind].names[granteeId]! }),
      privilege: privilege as Privilege,
      object: { schema: schemas.names[schemaId]!, table: tableId < 0 ? null : tables.names[tableId]!, columns: list },
      because: reasons,
      runId: run,
    };
  }

  // The order of grantSlotKey: kind ("group" < "role"), grantee, schema, table (schema level first), privilege.
  const groupRanks = grantees.group.ranks();
  const roleRanks = grantees.role.ranks();
  const schemaRanks = schemas.ranks();
  const tableRanks = tables.ranks();
  for (let i = 0; i < count; i++) {
    const id = granteeKeys[i]! >>> 1;
    granteeKeys[i] = granteeKeys[i]! & 1 ? groupRanks.length + roleRanks[id]! : groupRanks[id]!;
    schemaKeys[i] = schemaRanks[schemaKeys[i]!]!;
    if (tableKeys[i] !== 0) tableKeys[i] = 1 + tableRanks[tableKeys[i]! - 1]!;
  }
  const order = orderByKeys(count, [
    { values: granteeKeys, size: groupRanks.length + roleRanks.length },
    { values: schemaKeys, size: schemaRanks.length },
    { values: tableKeys, size: tableRanks.length + 1 },
    { values: formKeys, size: PRIVILEGE_RANK.size * 2 },
  ]);
  const sameSlot = (i: number, j: number): boolean =>
    granteeKeys[i] === granteeKeys[j] && schemaKeys[i] === schemaKeys[j] && tableKeys[i] === tableKeys[j] && formKeys[i] === formKeys[j];

  const recorded: RecordedGrant[] = [];
  for (let start = 0; start < count; ) {
    const i = order[start]!;
    let end = start + 1;
    while (end < count && sameSlot(order[end]!, i)) end++;
    recorded.push(end === start + 1 ? grants[i]! : mergedGrant(order.subarray(start, end), grants, rows));
    start = end;
  }
  return recorded;
}

/**
 * Several rows of one slot form (a split column list, rows left by 0001): one grant with their
 * columns and explanations; the latest row names the run.
 */
function mergedGrant(rowIds: Uint32Array, grants: readonly RecordedGrant[], rows: readonly Row[]): RecordedGrant {
  const first = grants[rowIds[0]!]!;
  const columns: string[] = [];
  const because: string[] = [];
  let latest = rowIds[0]!;
  for (const i of rowIds) {
    const grant = grants[i]!;
    columns.push(...(grant.object.columns ?? []));
    for (const reason of grant.because) if (!because.includes(reason)) because.push(reason);
    const grantedAt = String(rows[i]!.granted_at ?? "");
    const latestAt = String(rows[latest]!.granted_at ?? "");
    if (grantedAt > latestAt || (grantedAt === latestAt && grant.runId > grants[latest]!.runId)) latest = i;
  }
  return {
    ...first,
    object: { ...first.object, columns: first.object.columns === null ? null : [...new Set(columns)].sort(compareStrings) },
    because,
    runId: grants[latest]!.runId,
  };
}

export type RecordedRunStatus = "running" | "succeeded" | "failed" | "refused";

export interface RunRecord {
  readonly runId: string;
  readonly command: string;
  readonly status: RecordedRunStatus;
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly fencingToken: number | null;
  readonly catalogHash: string | null;
  readonly grants: number | null;
  readonly revokes: number | null;
  readonly pending: number | null;
  readonly batchesApplied: number | null;
  readonly batchesTotal: number | null;
  readonly message: string | null;
}

export async function recordRunStart(
  executor: SqlExecutor,
  stateSchema: string,
  run: { readonly runId: string; readonly command: string; readonly startedAt: Date; readonly fencingToken: number | null },
): Promise<void> {
  const d = executor.dialect;
  await executor.query(
    `INSERT INTO ${quoteIdent(stateSchema)}.runs (run_id, command, status, started_at, fencing_token) VALUES (${quoteLiteral(run.runId, d)}, ${quoteLiteral(run.command, d)}, 'running', ${timestampLiteral(run.startedAt, d)}, ${integerLiteral(run.fencingToken)})`,
  );
}

function integerLiteral(value: number | null): string {
  if (value === null) return "NULL";
  if (!Number.isSafeInteger(value)) throw new SyncError("TARGET_FAILED", `${value} is not an integer for the run log`);
  return String(value);
}

export async function recordRunEnd(
  executor: SqlExecutor,
  stateSchema: string,
  run: {
    readonly runId: string;
    readonly status: "succeeded" | "failed" | "refused";
    readonly finishedAt: Date;
    readonly grants: number;
    readonly revokes: number;
    readonly pending: number;
    readonly batchesApplied: number;
    readonly batchesTotal: number;
    readonly catalogHash: string | null;
    readonly message: string | null;
  },
): Promise<void> {
  const d = executor.dialect;
  const message = run.message === null ? null : truncateBytes(run.message, MAX_MESSAGE_BYTES);
  await executor.query(
    `UPDATE ${quoteIdent(stateSchema)}.runs SET status = ${quoteLiteral(run.status, d)}, finished_at = ${timestampLiteral(run.finishedAt, d)}, ` +
      `grants = ${integerLiteral(run.grants)}, revokes = ${integerLiteral(run.revokes)}, pending = ${integerLiteral(run.pending)}, ` +
      `batches_applied = ${integerLiteral(run.batchesApplied)}, batches_total = ${integerLiteral(run.batchesTotal)}, ` +
      `catalog_hash = ${quoteNullable(run.catalogHash, d)}, message = ${quoteNullable(message, d)} WHERE run_id = ${quoteLiteral(run.runId, d)}`,
  );
}

const RUN_COLUMNS =
  "run_id, command, status, started_at, finished_at, fencing_token, catalog_hash, grants, revokes, pending, batches_applied, batches_total, message";

function runRecord(row: Row): RunRecord {
  return {
    runId: stringOf(row, "run_id"),
    command: stringOf(row, "command"),
    status: stringOf(row, "status") as RecordedRunStatus,
    startedAt: isoTimestamp(row.started_at) ?? "",
    finishedAt: isoTimestamp(row.finished_at),
    fencingToken: numberOrNull(row.fencing_token),
    catalogHash: nullableString(row, "catalog_hash"),
    grants: numberOrNull(row.grants),
    revokes: numberOrNull(row.revokes),
    pending: numberOrNull(row.pending),
    batchesApplied: numberOrNull(row.batches_applied),
    batchesTotal: numberOrNull(row.batches_total),
    message: nullableString(row, "message"),
  };
}

/** Newest first; [] before the first migration. */
export async function listRuns(executor: SqlExecutor, stateSchema: string, limit: number): Promise<RunRecord[]> {
  if (!(await stateTableExists(executor, stateSchema, "runs"))) return [];
  const rows = await executor.query(
    `SELECT ${RUN_COLUMNS} FROM ${quoteIdent(stateSchema)}.runs ORDER BY started_at DESC, run_id DESC LIMIT ${Math.max(0, Math.floor(limit))}`,
  );
  return rows.map(runRecord);
}

export async function getRun(executor: SqlExecutor, stateSchema: string, runId: string): Promise<RunRecord | null> {
  if (!(await stateTableExists(executor, stateSchema, "runs"))) return null;
  const rows = await executor.query(
    `SELECT ${RUN_COLUMNS} FROM ${quoteIdent(stateSchema)}.runs WHERE run_id = ${quoteLiteral(runId, executor.dialect)}`,
  );
  return rows[0] === undefined ? null : runRecord(rows[0]);
}

/** catalog_hash of the last succeeded run (null when it recorded none, or no run succeeded yet). */
export async function lastCatalogHash(executor: SqlExecutor, stateSchema: string): Promise<string | null> {
  if (!(await stateTableExists(executor, stateSchema, "runs"))) return null;
  const rows = await executor.query(
    `SELECT catalog_hash FROM ${quoteIdent(stateSchema)}.runs WHERE status = 'succeeded' ORDER BY finished_at DESC, run_id DESC LIMIT 1`,
  );
  return rows[0] === undefined ? null : nullableString(rows[0], "catalog_hash");
}

/**
 * Replaces the recorded tag assignments with the snapshot's assigned (not inherited) tags of
 * databases, tables and columns: one DELETE, then bounded multi-row INSERTs.
 */
export function renderTagAssignmentStatements(
  dialect: Dialect,
  stateSchema: string,
  snapshot: CatalogSnapshot,
  runId: string,
  at: Date,
  maxStatementBytes = DEFAULT_MAX_STATEMENT_BYTES,
): string[] {
  const literal = (value: string | null): string => quoteNullable(value, dialect);
  const tail = `${literal(runId)}, ${timestampLiteral(at, dialect)})`;
  const rows: string[] = [];
  const add = (kind: string, database: string, table: string | null, column: string | null, tags: TagMap): void => {
    for (const key of Object.keys(tags).sort(compareStrings)) {
      rows.push(`(${[kind, database, table, column, key, tags[key] ?? ""].map(literal).join(", ")}, ${tail}`);
    }
  };
  for (const database of snapshot.databases) {
    add("database", database.name, null, null, database.tags);
    for (const table of database.tables) {
      add("table", database.name, table.name, null, table.tags);
      for (const column of table.columns) add("column", database.name, table.name, column.name, column.tags);
    }
  }
  const target = `${quoteIdent(stateSchema)}.tag_assignments`;
  return [
    `DELETE FROM ${target}`,
    ...boundedStatements(
      `INSERT INTO ${target} (resource_kind, database_name, table_name, column_name, tag_key, tag_value, run_id, seen_at) VALUES `,
      rows,
      "",
      maxStatementBytes,
    ),
  ];
}
