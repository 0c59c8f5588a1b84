import type { Dialect } from "../core/grants.js";

export type SqlValue = string | number | boolean | null;
export type Row = Readonly<Record<string, SqlValue>>;

/**
 * Port: runs SQL on the target. Adapters: PostgreSQL (pg or in-process PGlite) and the Redshift
 * Data API. SQL errors surface as SyncError("TARGET_FAILED") with the database's message.
 */
export interface SqlExecutor {
  readonly dialect: Dialect;
  /** One statement; its rows with column names as keys (BIGINT and DECIMAL may come back as strings). */
  query(sql: string): Promise<Row[]>;
  /**
   * Runs the statements in order as ONE transaction: all commit or none do. `token` makes a
   * resubmission of the same batch idempotent where the adapter supports it (Data API ClientToken).
   */
  transaction(statements: readonly string[], options?: { readonly token?: string }): Promise<void>;
  close(): Promise<void>;
}
