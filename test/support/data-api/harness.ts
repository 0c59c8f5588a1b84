/** Talks to a local Data API endpoint through the real SDK client, for the endpoint's own tests. */
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type DescribeStatementResponse,
  type Field,
} from "@aws-sdk/client-redshift-data";
import type { LocalDataApi } from "./server.js";

export type Connection = Readonly<Record<string, string>>;
export const IAM_TARGET: Connection = { Database: "dev", WorkgroupName: "wg" };

export interface Harness {
  readonly client: RedshiftDataClient;
  /** Rows of a statement as plain values; throws the statement's Error when it FAILED. */
  rows(sql: string, connection?: Connection): Promise<unknown[][]>;
  /** Runs SQL; resolves to the Error text, or null when it FINISHED. */
  error(sql: string, connection?: Connection): Promise<string | null>;
  /** A batch; resolves to the Error text, or null. */
  batchError(sqls: string[], connection?: Connection): Promise<string | null>;
  finished(id: string): Promise<DescribeStatementResponse>;
  close(): void;
}

export function harness(api: LocalDataApi): Harness {
  const client = new RedshiftDataClient({ endpoint: api.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  async function finished(id: string): Promise<DescribeStatementResponse> {
    for (;;) {
      const described = await client.send(new DescribeStatementCommand({ Id: id }));
      if (described.Status === "FINISHED" || described.Status === "FAILED" || described.Status === "ABORTED") return described;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  async function run(sql: string, connection: Connection): Promise<DescribeStatementResponse> {
    const { Id } = await client.send(new ExecuteStatementCommand({ ...connection, Sql: sql }));
    return finished(Id!);
  }
  return {
    client,
    finished,
    async rows(sql, connection = IAM_TARGET) {
      const done = await run(sql, connection);
      if (done.Status !== "FINISHED") throw new Error(done.Error ?? String(done.Status));
      if (done.HasResultSet !== true) return [];
      const rows: unknown[][] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new GetStatementResultCommand({ Id: done.Id, NextToken: token }));
        rows.push(...(page.Records ?? []).map((record) => record.map(plain)));
        token = page.NextToken;
      } while (token !== undefined);
      return rows;
    },
    async error(sql, connection = IAM_TARGET) {
      const done = await run(sql, connection);
      return done.Status === "FINISHED" ? null : (done.Error ?? String(done.Status));
    },
    async batchError(sqls, connection = IAM_TARGET) {
      const { Id } = await client.send(new BatchExecuteStatementCommand({ ...connection, Sqls: sqls }));
      const done = await finished(Id!);
      return done.Status === "FINISHED" ? null : (done.Error ?? String(done.Status));
    },
    close: () => client.destroy(),
  };
}

function plain(field: Field): unknown {
  if (field.isNull === true) return null;
  return field.stringValue ?? field.longValue ?? field.doubleValue ?? field.booleanValue ?? field.blobValue ?? null;
}
