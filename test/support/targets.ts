import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { afterAll } from "vitest";
import { dataApiTargetSchema } from "../../src/config/schema.js";
import { createDataApiExecutor } from "../../src/warehouse/data-api-executor.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { createPgliteExecutor, createPostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { type LocalDataApi, startLocalDataApi } from "./data-api-server.js";
import { createTestDatabase, type RunningPostgres, startPostgres } from "./postgres.js";

export interface TargetBackend {
  readonly name: string;
  /** A fresh, empty database behind a new executor; the caller closes it. */
  open(): Promise<SqlExecutor>;
}

/**
 * The three ways the service reaches a warehouse: PGlite in-process and a real PostgreSQL server
 * (dialect postgres), and the real Data API SDK client through the local Data API endpoint in
 * Redshift mode (dialect redshift, on a real server). Servers start on first use and stop in this
 * file's afterAll.
 */
export function targetBackends(): readonly TargetBackend[] {
  let server: Promise<RunningPostgres> | undefined;
  const endpoints: LocalDataApi[] = [];
  afterAll(async () => {
    for (const endpoint of endpoints) await endpoint.stop();
    if (server !== undefined) await (await server).stop();
  });
  const serverUrl = async () => (await (server ??= startPostgres())).url;
  return [
    { name: "PGlite", open: () => createPgliteExecutor({}) },
    { name: "PostgreSQL server", open: async () => createPostgresExecutor(await createTestDatabase(await serverUrl())) },
    {
      name: "Data API endpoint",
      async open() {
        const api = await startLocalDataApi({ pgUrl: await createTestDatabase(await serverUrl()), mode: "redshift" });
        endpoints.push(api);
        const config = dataApiTargetSchema.parse({ kind: "data-api", database: "dev", workgroupName: "local", dialect: "redshift", endpoint: api.endpoint, pollIntervalMs: 5 });
        const client = new RedshiftDataClient({ endpoint: api.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        const executor = createDataApiExecutor(config, { client });
        return {
          dialect: executor.dialect,
          query: (sql) => executor.query(sql),
          transaction: (statements, options) => executor.transaction(statements, options),
          async close() {
            await executor.close();
            client.destroy();
          },
        };
      },
    },
  ];
}
