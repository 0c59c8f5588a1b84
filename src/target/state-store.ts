import type { CatalogSnapshot, TagMap } from "../catalog/model.js";
import {
  compareStrings,
  grantSlotKey,
  SCHEMA_PRIVILEGES,
  TABLE_PRIVILEGES,
  type Dialect,
  type Grant,
  type GranteeKind,
  type Privilege,
  type RecordedGrant,
  SlotMap,
} from "../core/grants.js";
import { byteLength, quoteIdent, quoteLiteral, quoteNullable } from "../core/sql.js";
import { SyncError } from "../errors.js";
import type { Row, SqlExecutor, SqlValue } from "./executor.js";

/**
 * The state schema (DESIGN §4.3, migrations/0001_init.sql): the grants this service applied, the tag
 * assignments last seen and the run log. All SQL goes through the executor and is valid in both
 * dialects; timestamps come from the caller's Date, never the database clock, so what is written
 * is reproducible.
 */

export const DEFAULT_MAX_STATEMENT_BYTES = 100_000;
/** `because` is VARCHAR(65535); Redshift counts VARCHAR lengths in bytes. */
const MAX_BECAUSE_BYTES = 65_535;
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

/** Key of one row of `grants`: one per grantee x object x privilege, and per column for a column grant. */
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

export interface StateRowChange {
  readonly op: "record" | "forget";
  readonly grant: Grant;
  readonly because: readonly string[];
  /** Nothing was recorded for this grant's slot: its rows need no DELETE before the INSERT. */
  readonly fresh?: boolean;
}

/**
 * State statements for a batch of changes (pure, so apply runs them in the batch's transaction):
 * DELETE by grant_key for every touched row, then INSERT the recorded ones. "record" writes one row
 * per column of a column grant; "forget" of a column grant deletes only its listed columns' rows.
 * When one row is touched twice, the later change wins.
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
  const grantedAt = timestampLiteral(at, dialect);
  const runAndTime = `${literal(runId)}, ${grantedAt}`;
  const rows = new Map<string, string | null>();
  const stale = new Set<string>();
  for (const change of changes) {
    const { grant } = change;
    const needsDelete = change.op === "forget" || change.fresh !== true;
    const because = change.op === "record" ? literal(becauseText(change.because)) : "";
    for (const column of grant.object.columns ?? [null]) {
      const key = grantRowKey(grant, column);
      rows.delete(key);
      if (needsDelete) stale.add(key);
      rows.set(
        key,
        change.op === "forget"
          ? null
          : `(${[key, grant.grantee.kind, grant.grantee.name, grant.object.schema, grant.object.table, column, grant.privilege].map(literal).join(", ")}, ${because}, ${runAndTime})`,
      );
    }
  }
  const table = `${quoteIdent(stateSchema)}.grants`;
  const deletes = boundedStatements(`DELETE FROM ${table} WHERE grant_key IN (`, [...stale].map(literal), ")", maxStatementBytes);
  const inserts = boundedStatements(
    `INSERT INTO ${table} (grant_key, grantee_kind, grantee, schema_name, table_name, column_name, privilege, because, run_id, granted_at) VALUES `,
    [...rows.values()].filter((row): row is string => row !== null),
    "",
    maxStatementBytes,
  );
  return [...deletes, ...inserts];
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

const GRANTEE_KINDS: ReadonlySet<string> = new Set<GranteeKind>(["group", "role"]);
const PRIVILEGES: ReadonlySet<string> = new Set<string>([...SCHEMA_PRIVILEGES, ...TABLE_PRIVILEGES]);

interface RecordedSlot {
  readonly grant: Grant;
  readonly columns: string[] | null;
  /** Shared with other slots until a second, different explanation has to be merged in. */
  because: readonly string[];
  ownBecause: boolean;
  runId: string;
  grantedAt: string;
}

/**
 * What this service granted, one RecordedGrant per (grantee, schema, table, privilege): column rows
 * become one grant with sorted columns; a row without a column is table-level (schema-level without
 * a table). [] before the first migration, so a plan works on a fresh target.
 * If a slot has both a table-level row and column rows (only a crash between two versions could
 * write that), both come back as two grants of the same slot, and the planner forgets the wrong one.
 * Hot on large targets (one row per column grant): no per-row key strings or date parsing.
 */
export async function readRecordedGrants(executor: SqlExecutor, stateSchema: string): Promise<RecordedGrant[]> {
  if (!(await stateTableExists(executor, stateSchema, "grants"))) return [];
  // granted_at as text: only compared, and 'YYYY-MM-DD HH:MM:SS[.ffffff]' orders as text does.
  const rows = await executor.query(
    `SELECT grantee_kind, grantee, schema_name, table_name, column_name, privilege, because, run_id, CAST(granted_at AS VARCHAR(40)) AS granted_at FROM ${quoteIdent(stateSchema)}.grants`,
  );
  const becauseCache = new Map<string, readonly string[]>();
  const tableSlots = new SlotMap<RecordedSlot>();
  const columnSlots = new SlotMap<RecordedSlot>();
  const slots: RecordedSlot[] = [];
  for (const row of rows) {
    const kind = stringOf(row, "grantee_kind");
    const privilege = stringOf(row, "privilege");
    if (!GRANTEE_KINDS.has(kind) || !PRIVILEGES.has(privilege)) {
      throw new SyncError("TARGET_FAILED", `state schema row has grantee kind ${JSON.stringify(kind)} and privilege ${JSON.stringify(privilege)}`);
    }
    const column = nullableString(row, "column_name");
    const grant: Grant = {
      grantee: { kind: kind as GranteeKind, name: stringOf(row, "grantee") },
      privilege: privilege as Privilege,
      object: { schema: stringOf(row, "schema_name"), table: nullableString(row, "table_name"), columns: null },
    };
    const rawBecause = nullableString(row, "because") ?? "[]";
    let because = becauseCache.get(rawBecause);
    if (because === undefined) {
      because = JSON.parse(rawBecause) as string[];
      becauseCache.set(rawBecause, because);
    }
    const runId = stringOf(row, "run_id");
    const grantedAt = String(row.granted_at ?? "");
    const bySlot = column === null ? tableSlots : columnSlots;
    const slot = bySlot.get(grant);
    if (slot === undefined) {
      const created: RecordedSlot = { grant, columns: column === null ? null : [column], because, ownBecause: false, runId, grantedAt };
      bySlot.set(grant, created);
      slots.push(created);
      continue;
    }
    if (column !== null) slot.columns?.push(column);
    if (slot.because !== because) {
      for (const reason of because) {
        if (slot.because.includes(reason)) continue;
        if (!slot.ownBecause) {
          slot.because = [...slot.because];
          slot.ownBecause = true;
        }
        (slot.because as string[]).push(reason);
      }
    }
    if (grantedAt > slot.grantedAt || (grantedAt === slot.grantedAt && runId > slot.runId)) {
      slot.runId = runId;
      slot.grantedAt = grantedAt;
    }
  }
  return slots
    .map((slot) => ({ key: `${grantSlotKey(slot.grant)}${slot.columns === null ? "" : "\u0001"}`, slot }))
    .sort((a, b) => compareStrings(a.key, b.key))
    .map(({ slot }) => ({
      ...slot.grant,
      object: { ...slot.grant.object, columns: slot.columns === null ? null : [...new Set(slot.columns)].sort(compareStrings) },
      because: slot.because,
      runId: slot.runId,
    }));
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
