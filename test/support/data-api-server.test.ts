import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
  type DescribeStatementResponse,
} from "@aws-sdk/client-redshift-data";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLocalDataApi, type LocalDataApi } from "./data-api-server.js";
import { createTestDatabase, startPostgres, type RunningPostgres } from "./postgres.js";
import { failureOf } from "./failure.js";

/** The endpoint seen through the real SDK client, operation by operation (aws-facts §5). */

let server: Promise<RunningPostgres> | undefined;
afterAll(async () => {
  if (server !== undefined) await (await server).stop();
});

const backends = [
  { name: "PGlite", pgUrl: async (): Promise<string | undefined> => undefined },
  {
    name: "PostgreSQL server",
    pgUrl: async (): Promise<string | undefined> => {
      server ??= startPostgres();
      return createTestDatabase((await server).url);
    },
  },
];

const target = { Database: "dev", WorkgroupName: "wg" } as const;


describe.each(backends)("local Data API endpoint on $name", (backend) => {
  let api: LocalDataApi;
  let client: RedshiftDataClient;
  /** No SDK retries: each call is one request, so faults are seen as they are. */
  let once: RedshiftDataClient;

  async function finished(id: string): Promise<DescribeStatementResponse> {
    for (;;) {
      const described = await client.send(new DescribeStatementCommand({ Id: id }));
      if (described.Status === "FINISHED" || described.Status === "FAILED" || described.Status === "ABORTED") return described;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  beforeAll(async () => {
    const pgUrl = await backend.pgUrl();
    api = await startLocalDataApi(pgUrl === undefined ? {} : { pgUrl });
    const options = { endpoint: api.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } };
    client = new RedshiftDataClient(options);
    once = new RedshiftDataClient({ ...options, maxAttempts: 1 });
  });

  beforeEach(async () => {
    await api.reset();
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: "DROP TABLE IF EXISTS t" }));
    await finished(Id!);
    await api.reset();
  });

  afterAll(async () => {
    client.destroy();
    once.destroy();
    await api.stop();
  });

  it("runs a statement asynchronously: SUBMITTED/PICKED/STARTED, then FINISHED", async () => {
    api.faults.slowStatements(150);
    const { Id, CreatedAt } = await client.send(new ExecuteStatementCommand({ ...target, Sql: "SELECT 1 AS one" }));
    expect(CreatedAt).toBeInstanceOf(Date);
    const early = await client.send(new DescribeStatementCommand({ Id }));
    expect(["SUBMITTED", "PICKED", "STARTED"]).toContain(early.Status);
    const done = await finished(Id!);
    expect(done).toMatchObject({ Status: "FINISHED", HasResultSet: true, ResultRows: 1, QueryString: "SELECT 1 AS one", Database: "dev", WorkgroupName: "wg" });
    expect(done.Duration).toBeGreaterThan(0);
  });

  it("encodes each column type as its Field member and pages results by 100 rows", async () => {
    const { Id } = await client.send(
      new ExecuteStatementCommand({
        ...target,
        Sql:
          "SELECT g::int AS i, g::bigint AS b, g::smallint AS s, g / 2.0::float8 AS f, (g / 4.0)::numeric(8,2) AS n, g > 1 AS flag," +
          " NULL::text AS nothing, 'v' || g AS label, '\\xff'::bytea AS raw, DATE '2024-01-02' AS d FROM generate_series(1, 205) AS g ORDER BY g",
      }),
    );
    await finished(Id!);
    const first = await client.send(new GetStatementResultCommand({ Id }));
    expect(first.TotalNumRows).toBe(205);
    expect(first.Records).toHaveLength(100);
    expect(first.ColumnMetadata?.map((c) => [c.name, c.typeName])).toEqual([
      ["i", "int4"], ["b", "int8"], ["s", "int2"], ["f", "float8"], ["n", "numeric"], ["flag", "bool"],
      ["nothing", "text"], ["label", "text"], ["raw", "bytea"], ["d", "date"],
    ]);
    expect(first.Records?.[0]).toEqual([
      { longValue: 1 }, { longValue: 1 }, { longValue: 1 }, { doubleValue: 0.5 }, { stringValue: "0.25" }, { booleanValue: false },
      { isNull: true }, { stringValue: "v1" }, { blobValue: new Uint8Array([255]) }, { stringValue: "2024-01-02" },
    ]);
    const second = await client.send(new GetStatementResultCommand({ Id, NextToken: first.NextToken }));
    const third = await client.send(new GetStatementResultCommand({ Id, NextToken: second.NextToken }));
    expect([second.Records?.length, third.Records?.length, third.NextToken]).toEqual([100, 5, undefined]);
    expect(third.Records?.[4]?.[0]).toEqual({ longValue: 205 });
  });

  it("reports a SQL error as Status FAILED with Error, not as an exception", async () => {
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: "SELECT * FROM nowhere" }));
    expect(await finished(Id!)).toMatchObject({ Status: "FAILED", Error: 'ERROR: relation "nowhere" does not exist' });
  });

  it("runs a batch as one transaction with sub-statements <id>:N and their results", async () => {
    const { Id } = await client.send(
      new BatchExecuteStatementCommand({ ...target, Sqls: ["CREATE TABLE t (id int)", "INSERT INTO t VALUES (1), (2)", "SELECT id FROM t ORDER BY id"] }),
    );
    const done = await finished(Id!);
    expect(done.Status).toBe("FINISHED");
    expect(done.HasResultSet).toBe(true);
    expect(done.SubStatements?.map((s) => [s.Id, s.Status, s.HasResultSet])).toEqual([
      [`${Id}:1`, "FINISHED", false],
      [`${Id}:2`, "FINISHED", false],
      [`${Id}:3`, "FINISHED", true],
    ]);
    const result = await client.send(new GetStatementResultCommand({ Id: `${Id}:3` }));
    expect(result.Records).toEqual([[{ longValue: 1 }], [{ longValue: 2 }]]);
    await expect(client.send(new GetStatementResultCommand({ Id }))).rejects.toThrow(/sub-statement/);
  });

  it("rolls the whole batch back when statement N fails, with the error on <id>:N and on the batch", async () => {
    const { Id } = await client.send(
      new BatchExecuteStatementCommand({ ...target, Sqls: ["CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES ('x')", "SELECT 1"] }),
    );
    const done = await finished(Id!);
    expect(done.Status).toBe("FAILED");
    expect(done.Error).toMatch(/^ERROR: invalid input syntax for type integer/);
    expect(done.SubStatements?.map((s) => s.Status)).toEqual(["FINISHED", "FINISHED", "FAILED", "ABORTED"]);
    expect(done.SubStatements?.[2]?.Error).toBe(done.Error);
    const check = await client.send(new ExecuteStatementCommand({ ...target, Sql: "SELECT to_regclass('t') IS NULL AS gone" }));
    await finished(check.Id!);
    expect((await client.send(new GetStatementResultCommand({ Id: check.Id }))).Records).toEqual([[{ booleanValue: true }]]);
  });

  it("fails statement N of the next batch on request", async () => {
    api.faults.failNextBatchAt(2, "injected");
    const { Id } = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: ["CREATE TABLE t (id int)", "SELECT 1"] }));
    const done = await finished(Id!);
    expect(done.SubStatements?.map((s) => [s.Status, s.Error])).toEqual([["FINISHED", undefined], ["FAILED", "ERROR: injected"]]);
    expect(api.statements()[0]).toMatchObject({ status: "FAILED", runs: 1 });
  });

  it("rejects 41 statements and a statement over 100 KB with ValidationException, running nothing", async () => {
    const many = await failureOf(client.send(new BatchExecuteStatementCommand({ ...target, Sqls: Array.from({ length: 41 }, () => "SELECT 1") })));
    expect(many).toBeInstanceOf(ValidationException);
    expect(many.$metadata?.httpStatusCode).toBe(400);
    const big = await failureOf(client.send(new ExecuteStatementCommand({ ...target, Sql: `SELECT '${"x".repeat(101 * 1024)}'` })));
    expect(big).toBeInstanceOf(ValidationException);
    expect(big.message).toBe("Cannot process query string larger than 100kB");
    const noTarget = await failureOf(client.send(new ExecuteStatementCommand({ Database: "dev", Sql: "SELECT 1" })));
    expect(noTarget).toBeInstanceOf(ValidationException);
    expect(api.statements()).toEqual([]);
  });

  it("answers an unknown Id with ResourceNotFoundException", async () => {
    const error = await failureOf(client.send(new DescribeStatementCommand({ Id: "00000000-0000-0000-0000-000000000000" })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });

  it("returns the same Id for the same ClientToken and request, without running it again", async () => {
    const request = { ...target, Sqls: ["CREATE TABLE t (id int)"], ClientToken: "token-1" };
    const first = await client.send(new BatchExecuteStatementCommand(request));
    const again = await client.send(new BatchExecuteStatementCommand(request));
    expect(again.Id).toBe(first.Id);
    await finished(first.Id!);
    expect(api.statements().map((s) => s.runs)).toEqual([1]);
    const other = await failureOf(client.send(new BatchExecuteStatementCommand({ ...request, Sqls: ["SELECT 2"] })));
    expect(other).toBeInstanceOf(ValidationException);
  });

  it("throttles the next K calls with HTTP 400 ThrottlingException", async () => {
    api.faults.throttle(1);
    const error = await failureOf(once.send(new ListStatementsCommand({})));
    expect([error.name, error.$metadata?.httpStatusCode]).toEqual(["ThrottlingException", 400]);
    await expect(once.send(new ListStatementsCommand({}))).resolves.toBeDefined();
  });

  it("loses the connection on request", async () => {
    api.faults.dropConnections(1, "before");
    const error = await failureOf(once.send(new ListStatementsCommand({})));
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    api.faults.dropConnections(1, "after");
    await failureOf(once.send(new ExecuteStatementCommand({ ...target, Sql: "CREATE TABLE t (id int)" })));
    expect(api.statements()).toHaveLength(1);
  });

  it("cancels a statement before it runs, and refuses to cancel a finished one", async () => {
    api.faults.slowStatements(10_000);
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: "CREATE TABLE t (id int)" }));
    expect((await client.send(new CancelStatementCommand({ Id }))).Status).toBe(true);
    expect((await finished(Id!)).Status).toBe("ABORTED");
    expect(api.statements()[0]?.runs).toBe(0);
    await expect(client.send(new CancelStatementCommand({ Id }))).rejects.toBeInstanceOf(ValidationException);
  });

  it("lists statements, newest first, with a status filter", async () => {
    const a = await client.send(new ExecuteStatementCommand({ ...target, Sql: "SELECT 1", StatementName: "lfsync-a" }));
    await finished(a.Id!);
    const b = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: ["SELECT 2", "SELECT 3"], StatementName: "lfsync-b" }));
    await finished(b.Id!);
    const listed = await client.send(new ListStatementsCommand({ StatementName: "lfsync", Status: "FINISHED" }));
    expect(listed.Statements?.map((s) => [s.Id, s.IsBatchStatement, s.QueryStrings ?? s.QueryString])).toEqual([
      [b.Id, true, ["SELECT 2", "SELECT 3"]],
      [a.Id, false, "SELECT 1"],
    ]);
  });
});

describe("local Data API endpoint protocol", () => {
  let api: LocalDataApi;
  beforeAll(async () => {
    api = await startLocalDataApi();
  });
  afterAll(async () => {
    await api.stop();
  });

  it("refuses an unsigned request", async () => {
    const response = await fetch(api.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "RedshiftData.ListStatements" },
      body: "{}",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(await response.json()).toMatchObject({ __type: "MissingAuthenticationTokenException" });
  });
});
