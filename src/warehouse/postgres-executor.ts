import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { PGliteInterface } from "@electric-sql/pglite";
import pg from "pg";
import { SyncError } from "../errors.js";
import type { Row, SqlExecutor, SqlValue } from "./executor.js";

/**
 * SqlExecutor over PostgreSQL: a `pg` Pool for a server, or PGlite in-process (the embedded
 * default). Both return plain rows: timestamps as ISO strings, BIGINT and NUMERIC as strings.
 */
export interface PostgresExecutor extends SqlExecutor {
  /** Runs a script of several statements outside the port (test fixtures, admin set-up). */
  execScript(sql: string): Promise<void>;
}

const TYPE_OID = { INT8: 20, NUMERIC: 1700, DATE: 1082, TIMESTAMP: 1114, TIMESTAMPTZ: 1184 } as const;

/** TIMESTAMP has no zone: the service writes UTC (state-store.ts), so it is read back as UTC. */
function timestampToIso(text: string): string {
  const date = new Date(`${text.replace(" ", "T")}Z`);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

function timestamptzToIso(text: string): string {
  const date = new Date(text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

const keepText = (text: string): string => text;

const PARSERS: Readonly<Record<number, (text: string) => string>> = {
  [TYPE_OID.INT8]: keepText,
  [TYPE_OID.NUMERIC]: keepText,
  [TYPE_OID.DATE]: keepText,
  [TYPE_OID.TIMESTAMP]: timestampToIso,
  [TYPE_OID.TIMESTAMPTZ]: timestamptzToIso,
};

/** Anything a parser left as an object (arrays, JSON, bytea) becomes text, so rows stay plain. */
function toSqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/**
 * The driver's rows, made plain in place: a large read (the recorded state: hundreds of thousands
 * of rows) is not copied, and only values a parser left as objects are replaced.
 */
function plainRows(rows: Record<string, unknown>[]): Row[] {
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      if (value !== null && typeof value === "object") row[key] = toSqlValue(value);
      else if (value === undefined) row[key] = null;
      else if (typeof value === "bigint") row[key] = value.toString();
    }
  }
  return rows as Row[];
}

function excerpt(sql: string): string {
  return sql.length > 300 ? `${sql.slice(0, 300)}...` : sql;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function queryFailed(sql: string, error: unknown): SyncError {
  return new SyncError("TARGET_FAILED", `${messageOf(error)} (in: ${excerpt(sql)})`, { cause: error });
}

/** Runs `statements` through `run`, naming the failing one; the caller owns BEGIN/COMMIT/ROLLBACK. */
async function runNumbered(statements: readonly string[], run: (sql: string) => Promise<unknown>): Promise<void> {
  for (const [index, sql] of statements.entries()) {
    try {
      await run(sql);
    } catch (error) {
      throw new SyncError(
        "TARGET_FAILED",
        `statement ${index + 1} of ${statements.length} failed, transaction rolled back: ${messageOf(error)} (in: ${excerpt(sql)})`,
        { cause: error },
      );
    }
  }
}

/** Per-session and per-batch bounds (config target.kind postgres); a run never waits forever on a lock. */
export interface PostgresLimits {
  /** `statement_timeout` of every session. */
  readonly statementTimeoutMs?: number | undefined;
  /** `lock_timeout` of every session. */
  readonly lockTimeoutMs?: number | undefined;
  /** BEGIN..COMMIT of one batch; past it the statement is cancelled and the batch fails. */
  readonly batchTimeoutMs?: number | undefined;
}

export const POSTGRES_LIMIT_DEFAULTS = { statementTimeoutMs: 15 * 60_000, lockTimeoutMs: 30_000, batchTimeoutMs: 30 * 60_000 } as const;

/** How long a connect, and a cancel request, may take. */
const CONNECT_TIMEOUT_MS = 30_000;
const CANCEL_GRACE_MS = 5_000;

export function createPostgresExecutor(url: string, limits: PostgresLimits = {}): PostgresExecutor {
  const batchTimeoutMs = limits.batchTimeoutMs ?? POSTGRES_LIMIT_DEFAULTS.batchTimeoutMs;
  const pool = createPool(url, limits);

  async function simpleQuery(sql: string): Promise<Row[]> {
    try {
      const result = await pool.query(sql);
      // A script sent through the simple protocol returns one result per statement.
      const last = Array.isArray(result) ? (result as pg.QueryResult[]).at(-1) : result;
      return plainRows(last?.rows ?? []);
    } catch (error) {
      throw queryFailed(sql, error);
    }
  }

  return {
    dialect: "postgres",
    query: simpleQuery,
    async execScript(sql) {
      await simpleQuery(sql);
    },
    transaction: (statements) => runBatch(pool, statements, batchTimeoutMs, url),
    async close() {
      await pool.end();
    },
  };
}

function createPool(url: string, limits: PostgresLimits): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    // Sent in the startup packet: every session of the pool has them, whoever uses it.
    statement_timeout: limits.statementTimeoutMs ?? POSTGRES_LIMIT_DEFAULTS.statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs ?? POSTGRES_LIMIT_DEFAULTS.lockTimeoutMs,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        PARSERS[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client's connection error must not crash the process; the next query reports it.
  pool.on("error", () => undefined);
  return pool;
}

/** One batch in BEGIN..COMMIT on one session, under the batch deadline; rolled back on failure. */
async function runBatch(pool: pg.Pool, statements: readonly string[], batchTimeoutMs: number, url: string): Promise<void> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new SyncError("TARGET_FAILED", `cannot connect to PostgreSQL: ${messageOf(error)}`, { cause: error });
  }
  const deadline = armDeadline(client, batchTimeoutMs, url);
  let broken = false;
  try {
    await client.query("BEGIN");
    await runNumbered(statements, (sql) => client.query(sql));
    await client.query("COMMIT");
  } catch (error) {
    if (deadline.expired()) broken = true;
    try {
      if (!broken) await client.query("ROLLBACK");
    } catch (rollbackError) {
      // The session is unusable: drop it from the pool instead of handing it to the next caller.
      broken = true;
      throw new SyncError("TARGET_FAILED", `${messageOf(error)}; ROLLBACK also failed: ${messageOf(rollbackError)}`, {
        cause: error,
      });
    }
    if (deadline.expired()) {
      throw new SyncError(
        "TARGET_FAILED",
        `the batch did not finish within ${batchTimeoutMs} ms (target.batchTimeoutMs) and was cancelled: ${messageOf(error)}`,
        { cause: error },
      );
    }
    throw error instanceof SyncError ? error : queryFailed("COMMIT", error);
  } finally {
    deadline.clear();
    client.release(broken);
  }
}

interface Deadline {
  expired(): boolean;
  clear(): void;
}

/**
 * After `ms`, cancels the session's running statement (pg_cancel_backend over a second connection),
 * and if that does not end it within CANCEL_GRACE_MS, drops the socket: the pending query fails, the
 * server rolls the transaction back. Either way the caller's await ends.
 */
function armDeadline(client: pg.PoolClient, ms: number, url: string): Deadline {
  let expired = false;
  let grace: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    expired = true;
    grace = setTimeout(() => destroySocket(client), CANCEL_GRACE_MS);
    void cancelBackend(url, (client as unknown as { processID: number | null }).processID);
  }, ms);
  return {
    expired: () => expired,
    clear() {
      clearTimeout(timer);
      clearTimeout(grace);
    },
  };
}

async function cancelBackend(url: string, pid: number | null): Promise<void> {
  if (pid === null) return;
  const canceller = new pg.Client({ connectionString: url, connectionTimeoutMillis: CANCEL_GRACE_MS, statement_timeout: CANCEL_GRACE_MS });
  canceller.on("error", () => undefined);
  try {
    await canceller.connect();
    await canceller.query("SELECT pg_cancel_backend($1)", [pid]);
  } catch {
    // The socket is dropped after CANCEL_GRACE_MS anyway (armDeadline).
  } finally {
    await canceller.end().catch(() => undefined);
  }
}

function destroySocket(client: pg.PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/**
 * PGlite is an optional dependency (only the demo and `target.kind: pglite` use it; the container
 * image leaves it out), so it is loaded on first use.
 */
async function loadPglite(): Promise<typeof import("@electric-sql/pglite")> {
  try {
    return await import("@electric-sql/pglite");
  } catch (error) {
    throw new SyncError(
      "CONFIG_INVALID",
      'target.kind "pglite" needs the optional package @electric-sql/pglite, which is not installed (npm install @electric-sql/pglite, or use a postgres or data-api target)',
      { cause: error },
    );
  }
}

export async function createPgliteExecutor(options: { dataDir?: string }): Promise<PostgresExecutor> {
  const { PGlite } = await loadPglite();
  // PGlite creates the data directory itself but not its parents.
  if (options.dataDir !== undefined) await mkdir(dirname(options.dataDir), { recursive: true });
  return pgliteExecutor(await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir }));
}

/** Wraps an open PGlite instance (for example a `clone()` of a prepared one); close() closes it. */
export function pgliteExecutor(db: PGliteInterface): PostgresExecutor {
  const queryOptions = { parsers: PARSERS };
  return {
    dialect: "postgres",
    async query(sql) {
      try {
        const result = await db.query<Record<string, unknown>>(sql, [], queryOptions);
        return plainRows(result.rows);
      } catch (error) {
        throw queryFailed(sql, error);
      }
    },
    async execScript(sql) {
      try {
        await db.exec(sql, queryOptions);
      } catch (error) {
        throw queryFailed(sql, error);
      }
    },
    async transaction(statements) {
      // PGlite's transaction() holds its connection for the callback and rolls back on a throw.
      try {
        await db.transaction((tx) => runNumbered(statements, (sql) => tx.query(sql, [], queryOptions)));
      } catch (error) {
        throw error instanceof SyncError ? error : queryFailed("COMMIT", error);
      }
    },
    async close() {
      await db.close();
    },
  };
}
