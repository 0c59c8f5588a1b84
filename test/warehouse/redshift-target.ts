import { PGlite } from "@electric-sql/pglite";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { expect } from "vitest";
import { dataApiTargetSchema } from "../../src/config/schema.js";
import { createDataApiExecutor } from "../../src/warehouse/data-api-executor.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { type LocalDataApi, type RedshiftOptions, startLocalDataApi } from "../support/data-api-server.js";

/** The secret that signs in as the non-superuser `sync` (a user the test creates). */
export const SYNC_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sync-AbCdEf";

/** A table sales.orders and its schema, owned by the non-superuser `sync`, and a group analyst: the setup of the visibility tests. */
export const SYNC_OWNS_SALES_ORDERS: readonly string[] = [
  "CREATE USER sync PASSWORD DISABLE",
  "CREATE SCHEMA sales",
  "CREATE TABLE sales.orders (id int)",
  "ALTER SCHEMA sales OWNER TO sync",
  "ALTER TABLE sales.orders OWNER TO sync",
  "CREATE GROUP analyst",
];

export interface RedshiftTarget {
  readonly api: LocalDataApi;
  /** The production executor, redshift dialect, signed in as the IAM identity (a superuser). */
  readonly executor: SqlExecutor;
  /** The same, signed in as `sync` through SYNC_SECRET. */
  executorAs(secretArn: string): SqlExecutor;
  /** Runs each statement as the superuser; fails the test on the first error. */
  setup(statements: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The local Data API endpoint in Redshift mode on an in-memory PGlite. */
export async function openRedshift(options: RedshiftOptions = {}): Promise<RedshiftTarget> {
  const pglite = await PGlite.create();
  const api = await startLocalDataApi({ mode: "redshift", pglite, redshift: { secrets: { [SYNC_SECRET]: "sync" }, ...options } });
  const client = new RedshiftDataClient({ endpoint: api.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const open = (extra: Record<string, string>): SqlExecutor =>
    createDataApiExecutor(dataApiTargetSchema.parse({ kind: "data-api", database: "dev", workgroupName: "wg", endpoint: api.endpoint, pollIntervalMs: 2, ...extra }), { client });
  const executor = open({});
  return {
    api,
    executor,
    executorAs: (secretArn) => open({ secretArn }),
    async setup(statements) {
      for (const sql of statements) await expect(executor.query(sql), sql).resolves.toBeDefined();
    },
    async close() {
      await executor.close();
      client.destroy();
      await api.stop();
      await pglite.close();
    },
  };
}
