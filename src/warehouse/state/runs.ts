import { quoteIdent, quoteLiteral, quoteNullable } from "../../core/sql.js";
import type { Dialect } from "../../core/grants.js";
import type { Row, SqlExecutor } from "../executor.js";
import { assertStateTrusted } from "./trust.js";
import { integerLiteral, isoTimestamp, nullableString, numberOrNull, stateTableExists, stringOf, timestampLiteral, truncateBytes } from "./sql.js";

/**
 * The run log (`runs`): one row per run that started, written before the run does anything else,
 * and finished with its outcome and, when it failed, the error code (src/errors.ts), so that
 * GET /runs shows every run and why it failed.
 */

const MAX_MESSAGE_BYTES = 4096;

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
  /** The SyncError code of a failed or refused run (SOURCE_INCOMPLETE, LEASE_HELD, ...). */
  readonly errorCode: string | null;
  readonly message: string | null;
}

export interface RunStart {
  readonly runId: string;
  readonly command: string;
  readonly startedAt: Date;
  readonly fencingToken: number | null;
  /**
   * Under a lease: sweep the rows a killed process left `running` (a lower fencing token, or started
   * before this instant, the lease TTL ago) into `failed` with INTERRUPTED, in the INSERT's transaction.
   */
  readonly interruptedBefore?: Date;
}

/** The run log's code for a run whose process ended before it recorded its outcome (not a SyncError: nothing throws it). */
export const INTERRUPTED = "INTERRUPTED";

export interface RunEnd {
  readonly runId: string;
  readonly status: "succeeded" | "failed" | "refused";
  readonly finishedAt: Date;
  readonly grants: number;
  readonly revokes: number;
  readonly pending: number;
  readonly batchesApplied: number;
  readonly batchesTotal: number;
  readonly catalogHash: string | null;
  readonly errorCode?: string | null;
  readonly message: string | null;
}

const runsTable = (stateSchema: string): string => `${quoteIdent(stateSchema)}.runs`;

export async function recordRunStart(executor: SqlExecutor, stateSchema: string, run: RunStart): Promise<void> {
  const d = executor.dialect;
  const insert = `INSERT INTO ${runsTable(stateSchema)} (run_id, command, status, started_at, fencing_token) VALUES (${quoteLiteral(run.runId, d)}, ${quoteLiteral(run.command, d)}, 'running', ${timestampLiteral(run.startedAt, d)}, ${integerLiteral(run.fencingToken)})`;
  if (run.interruptedBefore === undefined || run.fencingToken === null) await executor.query(insert);
  else await executor.transaction([insert, sweepStatement(stateSchema, d, { ...run, fencingToken: run.fencingToken, interruptedBefore: run.interruptedBefore })]);
}

/**
 * A run that holds the lease is the only one that may still apply (a holder of a lower token is
 * fenced out, DESIGN §4.3): any other `running` row of a lower token, or older than the lease TTL
 * (the memory lock's tokens restart with the process), belongs to a process that ended without
 * recording its outcome. Such a run, should it still finish, overwrites this with its real outcome.
 */
function sweepStatement(stateSchema: string, d: Dialect, run: RunStart & { readonly fencingToken: number; readonly interruptedBefore: Date }): string {
  const message = `interrupted: its process ended before it recorded the outcome (found by run ${run.runId}, fencing token ${run.fencingToken}, which holds the lease)`;
  return (
    `UPDATE ${runsTable(stateSchema)} SET status = 'failed', finished_at = ${timestampLiteral(run.startedAt, d)}, error_code = ${quoteLiteral(INTERRUPTED, d)}, ` +
    `message = ${quoteLiteral(truncateBytes(message, MAX_MESSAGE_BYTES), d)} WHERE status = 'running' AND run_id <> ${quoteLiteral(run.runId, d)} ` +
    `AND (fencing_token IS NULL OR fencing_token < ${integerLiteral(run.fencingToken)} OR started_at < ${timestampLiteral(run.interruptedBefore, d)})`
  );
}

/** A run that failed before it could write its start (the lease, a migration): one finished row. */
export async function recordFailedRun(
  executor: SqlExecutor,
  stateSchema: string,
  run: RunStart & { readonly finishedAt: Date; readonly errorCode: string; readonly message: string },
): Promise<void> {
  const d = executor.dialect;
  const message = truncateBytes(run.message, MAX_MESSAGE_BYTES);
  await executor.query(
    `INSERT INTO ${runsTable(stateSchema)} (run_id, command, status, started_at, finished_at, fencing_token, error_code, message) VALUES (` +
      `${quoteLiteral(run.runId, d)}, ${quoteLiteral(run.command, d)}, 'failed', ${timestampLiteral(run.startedAt, d)}, ${timestampLiteral(run.finishedAt, d)}, ` +
      `${integerLiteral(run.fencingToken)}, ${quoteLiteral(run.errorCode, d)}, ${quoteLiteral(message, d)})`,
  );
}

export async function recordRunEnd(executor: SqlExecutor, stateSchema: string, run: RunEnd): Promise<void> {
  const d = executor.dialect;
  const message = run.message === null ? null : truncateBytes(run.message, MAX_MESSAGE_BYTES);
  await executor.query(
    `UPDATE ${runsTable(stateSchema)} SET status = ${quoteLiteral(run.status, d)}, finished_at = ${timestampLiteral(run.finishedAt, d)}, ` +
      `grants = ${integerLiteral(run.grants)}, revokes = ${integerLiteral(run.revokes)}, pending = ${integerLiteral(run.pending)}, ` +
      `batches_applied = ${integerLiteral(run.batchesApplied)}, batches_total = ${integerLiteral(run.batchesTotal)}, ` +
      `catalog_hash = ${quoteNullable(run.catalogHash, d)}, error_code = ${quoteNullable(run.errorCode ?? null, d)}, ` +
      `message = ${quoteNullable(message, d)} WHERE run_id = ${quoteLiteral(run.runId, d)}`,
  );
}

const RUN_COLUMNS =
  "run_id, command, status, started_at, finished_at, fencing_token, catalog_hash, grants, revokes, pending, batches_applied, batches_total, error_code, message";

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
    errorCode: nullableString(row, "error_code"),
    message: nullableString(row, "message"),
  };
}

/**
 * Newest first; [] before the first migration. Read only from a trusted state schema: a `runs` view
 * someone else made would run their functions as the service's user (STATE_UNTRUSTED otherwise).
 */
export async function listRuns(executor: SqlExecutor, stateSchema: string, limit: number): Promise<RunRecord[]> {
  if (!(await stateTableExists(executor, stateSchema, "runs"))) return [];
  await assertStateTrusted(executor, stateSchema);
  const rows = await executor.query(
    `SELECT ${RUN_COLUMNS} FROM ${runsTable(stateSchema)} ORDER BY started_at DESC, run_id DESC LIMIT ${Math.max(0, Math.floor(limit))}`,
  );
  return rows.map(runRecord);
}

export async function getRun(executor: SqlExecutor, stateSchema: string, runId: string): Promise<RunRecord | null> {
  if (!(await stateTableExists(executor, stateSchema, "runs"))) return null;
  await assertStateTrusted(executor, stateSchema);
  const rows = await executor.query(`SELECT ${RUN_COLUMNS} FROM ${runsTable(stateSchema)} WHERE run_id = ${quoteLiteral(runId, executor.dialect)}`);
  return rows[0] === undefined ? null : runRecord(rows[0]);
}

/** catalog_hash of the last succeeded run (null when it recorded none, or no run succeeded yet). */
export async function lastCatalogHash(executor: SqlExecutor, stateSchema: string): Promise<string | null> {
  if (!(await stateTableExists(executor, stateSchema, "runs"))) return null;
  const rows = await executor.query(
    `SELECT catalog_hash FROM ${runsTable(stateSchema)} WHERE status = 'succeeded' ORDER BY finished_at DESC, run_id DESC LIMIT 1`,
  );
  return rows[0] === undefined ? null : nullableString(rows[0], "catalog_hash");
}
