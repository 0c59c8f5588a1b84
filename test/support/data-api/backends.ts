/**
 * The PostgreSQL under the endpoint: in-process PGlite, or a server by URL. A session is one
 * connection, inside a transaction when asked (a batch is one transaction, aws-facts §5.1).
 */
import { PGlite, type Transaction } from "@electric-sql/pglite";
import pg from "pg";
import { BYTEA_TYPE, TEXT_PARSERS } from "./fields.js";

/** Rows with the PostgreSQL type OID of each column. */
export interface ResultSet {
  readonly columns: readonly { readonly name: string; readonly typeId: number }[];
  readonly rows: readonly (readonly unknown[])[];
}

/** A statement's outcome; `result` is null for a statement without a result set. */
export interface Outcome {
  readonly result: ResultSet | null;
  readonly affected: number;
}

export interface Session {
  query(sql: string): Promise<Outcome>;
}

export interface Backend {
  /** Runs `work` on one connection; with `transaction`, commits when it resolves and rolls back when it throws. */
  session<T>(transaction: boolean, work: (session: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** PostgreSQL server to run the SQL on; default: a fresh in-memory PGlite. */
  readonly pgUrl?: string;
  /** An existing PGlite database to share with the test (not closed by stop()). */
  readonly pglite?: PGlite;
}

export async function openBackend(options: BackendOptions): Promise<Backend> {
  if (options.pgUrl !== undefined) return pgBackend(options.pgUrl);
  if (options.pglite !== undefined) return pgliteBackend(options.pglite, false);
  return pgliteBackend(await PGlite.create(), true);
}

function pgliteBackend(db: PGlite, owned: boolean): Backend {
  const sessionOf = (target: PGlite | Transaction): Session => ({
    async query(sql) {
      const result = await target.query<unknown[]>(sql, [], { rowMode: "array", parsers: TEXT_PARSERS });
      return {
        result: result.fields.length === 0 ? null : { columns: result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })), rows: result.rows },
        affected: result.affectedRows ?? 0,
      };
    },
  });
  return {
    session: (transaction, work) => (transaction ? db.transaction((tx) => work(sessionOf(tx))) : work(sessionOf(db))),
    async close() {
      if (owned) await db.close();
    },
  };
}

function pgBackend(url: string): Backend {
  // Raw text for every type but bytea, as the Data API sees PostgreSQL's output.
  const types = { getTypeParser: (oid: number) => (oid === BYTEA_TYPE ? pg.types.getTypeParser(oid) : (v: string) => v) };
  const pool = new pg.Pool({ connectionString: url, max: 8, types: types as pg.CustomTypesConfig });
  // An idle connection's error (the server stopping first) only drops that connection from the pool;
  // a query in flight still fails with its own error. Without a listener it would crash the process.
  pool.on("error", () => undefined);
  const sessionOf = (client: pg.PoolClient): Session => ({
    async query(sql) {
      // Extended protocol: one statement per call, like ExecuteStatement.
      const result = await client.query({ text: sql, rowMode: "array", queryMode: "extended" } as pg.QueryArrayConfig);
      return {
        result: result.fields.length === 0 ? null : { columns: result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })), rows: result.rows },
        affected: result.rowCount ?? 0,
      };
    },
  });
  return {
    async session(transaction, work) {
      const client = await pool.connect();
      try {
        if (!transaction) return await work(sessionOf(client));
        await client.query("BEGIN");
        try {
          const value = await work(sessionOf(client));
          await client.query("COMMIT");
          return value;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The same backend, counting the PostgreSQL queries it runs (the endpoint's own cost, for the bench and tests). */
export function countingBackend(backend: Backend, counter: { queries: number }): Backend {
  return {
    session: (transaction, work) =>
      backend.session(transaction, (session) =>
        work({
          query(sql) {
            counter.queries++;
            return session.query(sql);
          },
        }),
      ),
    close: () => backend.close(),
  };
}
