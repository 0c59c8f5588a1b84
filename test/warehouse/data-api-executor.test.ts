import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { dataApiTargetSchema, type DataApiTargetConfig } from "../../src/config/schema.js";
import { isSyncError } from "../../src/errors.js";
import { createDataApiExecutor, fieldValue } from "../../src/warehouse/data-api-executor.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { startLocalDataApi, type LocalDataApi } from "../support/data-api-server.js";
import { createTestDatabase, startPostgres, type RunningPostgres } from "../support/postgres.js";
import { failureOf } from "../support/failure.js";

/**
 * The production executor through the real SDK client against the local endpoint in Redshift mode
 * (aws-facts §5): dialect redshift, Redshift SQL and limits, results paged by bytes.
 */

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

function config(overrides: Partial<DataApiTargetConfig> = {}): DataApiTargetConfig {
  return dataApiTargetSchema.parse({
    kind: "data-api",
    database: "dev",
    workgroupName: "wg",
    dialect: "redshift",
    pollIntervalMs: 5,
    statementTimeoutMs: 30_000,
    ...overrides,
  });
}

function sdkClient(endpoint: string): RedshiftDataClient {
  return new RedshiftDataClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    maxAttempts: 4,
  });
}


describe.each(backends)("data-api executor on $name", (backend) => {
  let api: LocalDataApi;
  let client: RedshiftDataClient;
  let executor: SqlExecutor;
  let sleeps: number[] = [];

  beforeAll(async () => {
    const pgUrl = await backend.pgUrl();
    // Pages of 4 KB: a result of a few hundred rows spans several GetStatementResult calls.
    api = await startLocalDataApi({ mode: "redshift", redshift: { pageBytes: 4096 }, ...(pgUrl === undefined ? {} : { pgUrl }) });
    client = sdkClient(api.endpoint);
    executor = createDataApiExecutor(config(), {
      client,
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20)));
      },
    });
  });

  beforeEach(async () => {
    await api.reset();
    await executor.query("DROP TABLE IF EXISTS t, never");
    await api.reset();
    sleeps = [];
  });

  afterAll(async () => {
    await executor.close();
    client.destroy();
    await api.stop();
  });

  it("reads every page of a result and decodes each Field kind Redshift returns", async () => {
    const rows = await executor.query(
      "SELECT g::int AS i, g::bigint * 1000000000 AS big, g / 4.0::float8 AS f, (g / 8.0)::numeric(10,3) AS dec," +
        " g % 2 = 0 AS even, CASE WHEN g % 5 = 0 THEN NULL ELSE 'r' || g END AS label" +
        " FROM generate_series(1, 250) AS g ORDER BY g",
    );
    expect(rows).toHaveLength(250);
    expect(rows[0]).toEqual({ i: 1, big: 1_000_000_000, f: 0.25, dec: "0.125", even: false, label: "r1" });
    expect(rows[249]).toEqual({ i: 250, big: 250_000_000_000, f: 62.5, dec: "31.250", even: true, label: null });
    expect(api.calls().GetStatementResult).toBeGreaterThanOrEqual(3);
  });

  it("returns no rows for a statement without a result set, and [] for an empty result", async () => {
    expect(await executor.query("CREATE TABLE t (id int)")).toEqual([]);
    expect(await executor.query("SELECT id FROM t")).toEqual([]);
    expect(api.calls().GetStatementResult).toBe(1);
  });

  it("commits a batch as one transaction", async () => {
    await executor.transaction(["CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"], { token: "run-1:0" });
    expect(await executor.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 2 }]);
    expect(api.statements()[0]).toMatchObject({ isBatch: true, status: "FINISHED", runs: 1 });
  });

  it("rolls back the whole batch when statement N fails and names <id>:N", async () => {
    await executor.query("CREATE TABLE t (id int)");
    const error = await failureOf(
      executor.transaction(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)", "INSERT INTO missing VALUES (3)", "INSERT INTO t VALUES (4)"]),
    );
    const batch = api.statements().find((s) => s.isBatch)!;
    expect(isSyncError(error) && error.code).toBe("TARGET_FAILED");
    expect(error.message).toContain(`at ${batch.id}:3`);
    expect(error.message).toContain('relation "missing" does not exist');
    expect(await executor.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 0 }]);
  });

  it("reports an injected failure at statement N and leaves nothing behind", async () => {
    await executor.query("CREATE TABLE t (id int)");
    api.faults.failNextBatchAt(2, "disk full");
    const error = await failureOf(executor.transaction(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"]));
    expect(error.message).toMatch(/at [0-9a-f-]+:2 \(INSERT INTO t VALUES \(2\)\): ERROR: disk full/);
    expect(await executor.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 0 }]);
  });

  it("rides out throttling through the SDK's retries", async () => {
    api.faults.throttle(2, ["ExecuteStatement"]);
    expect(await executor.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    expect(api.calls().ExecuteStatement).toBe(3);
    expect(api.statements()).toHaveLength(1);
  });

  it("retries ActiveStatementsExceeded with backoff and the same ClientToken", async () => {
    api.faults.exceedActiveStatements(2);
    await executor.transaction(["CREATE TABLE t (id int)"], { token: "tok-active" });
    expect(api.calls().BatchExecuteStatement).toBe(3);
    expect(sleeps.slice(0, 2)).toEqual([200, 400]);
    expect(api.statements()).toHaveLength(1);
  });

  it("retries DatabaseConnectionException (a Serverless workgroup resuming) with backoff", async () => {
    // The SDK's own 4 attempts fail, then the executor submits again with the same ClientToken.
    api.faults.reject(6, "DatabaseConnectionException", 500, ["ExecuteStatement"]);
    expect(await executor.query("SELECT 4 AS four")).toEqual([{ four: 4 }]);
    expect(api.calls().ExecuteStatement).toBe(7);
    expect(sleeps[0]).toBe(200);
    expect(api.statements()).toHaveLength(1);
  });

  it("gives up after a bounded number of submits", async () => {
    api.faults.exceedActiveStatements(100);
    const error = await failureOf(executor.query("SELECT 1"));
    expect(error.message).toContain("ActiveStatementsExceededException");
    expect(api.calls().ExecuteStatement).toBe(6);
    expect(api.statements()).toHaveLength(0);
  });

  it("polls a slow statement with a growing interval", async () => {
    api.faults.slowStatements(250);
    expect(await executor.query("SELECT 2 AS two")).toEqual([{ two: 2 }]);
    expect(sleeps.slice(0, 4)).toEqual([5, 8, 12, 18]);
    expect(api.calls().DescribeStatement).toBeGreaterThan(2);
  });

  it("cancels a statement that outlives statementTimeoutMs", async () => {
    const impatient = createDataApiExecutor(config({ statementTimeoutMs: 60 }), { client });
    api.faults.slowStatements(10_000);
    const error = await failureOf(impatient.query("CREATE TABLE never (id int)"));
    expect(error.message).toMatch(/did not finish within 60 ms .*cancelled/);
    await expect.poll(() => api.statements()[0]?.status).toBe("ABORTED");
    expect(api.statements()[0]?.runs).toBe(0);
    expect(await executor.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'never'")).toEqual([{ n: 0 }]);
  });

  it("retries after a lost connection", async () => {
    api.faults.dropConnections(1, "before");
    expect(await executor.query("SELECT 3 AS three")).toEqual([{ three: 3 }]);
    expect(api.calls().ExecuteStatement).toBe(2);
  });

  it("applies a batch once when the answer to the submit is lost (SDK retry reuses the ClientToken)", async () => {
    await executor.query("CREATE TABLE t (id int)");
    api.faults.dropConnections(1, "after");
    await executor.transaction(["INSERT INTO t VALUES (1)"], { token: "run-2:0" });
    expect(api.calls().BatchExecuteStatement).toBe(2);
    expect(api.statements().filter((s) => s.isBatch)).toHaveLength(1);
    expect(await executor.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 1 }]);
  });

  it("does not apply a resubmitted batch twice (same token, or the same statements without one)", async () => {
    await executor.query("CREATE TABLE t (id int)");
    await executor.transaction(["INSERT INTO t VALUES (1)"], { token: "run-3:0" });
    await executor.transaction(["INSERT INTO t VALUES (1)"], { token: "run-3:0" });
    await executor.transaction(["INSERT INTO t VALUES (2)"]);
    await executor.transaction(["INSERT INTO t VALUES (2)"]);
    expect(await executor.query("SELECT id FROM t ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
    const batches = api.statements().filter((s) => s.isBatch);
    expect(batches.map((b) => b.runs)).toEqual([1, 1]);
    expect(api.calls().BatchExecuteStatement).toBe(4);
  });

  it("runs the same statements again under a new token", async () => {
    await executor.query("CREATE TABLE t (id int)");
    await executor.transaction(["INSERT INTO t VALUES (1)"], { token: "run-4:0" });
    await executor.transaction(["INSERT INTO t VALUES (1)"], { token: "run-5:0" });
    expect(await executor.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 2 }]);
  });

  it("refuses 41 statements or a statement over 100 KB before calling the API", async () => {
    const many = await failureOf(executor.transaction(Array.from({ length: 41 }, () => "SELECT 1")));
    expect(many.message).toContain("at most 40 statements, got 41");
    const big = `SELECT '${"x".repeat(101 * 1024)}'`;
    const large = await failureOf(executor.transaction(["SELECT 1", big]));
    expect(large.message).toMatch(/statement 2 is \d+ bytes; the Data API takes at most 102400/);
    await expect(executor.query(big)).rejects.toThrow(/at most 102400 bytes/);
    expect(api.calls()).toEqual({});
  });

  it("surfaces a SQL error of a single statement with its Error text", async () => {
    const error = await failureOf(executor.query("SELECT * FROM nowhere"));
    expect(error.message).toMatch(/statement [0-9a-f-]+ FAILED: ERROR: relation "nowhere" does not exist/);
  });
});

describe("data-api executor connection settings", () => {
  let api: LocalDataApi;
  beforeAll(async () => {
    api = await startLocalDataApi({ mode: "redshift" });
  });
  beforeEach(async () => {
    await api.reset();
  });
  afterAll(async () => {
    await api.stop();
  });

  it("sends provisioned (cluster + dbUser) and Serverless (workgroup + secret) parameters", async () => {
    const client = sdkClient(api.endpoint);
    const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sync-AbCdEf";
    const provisioned = createDataApiExecutor(config({ workgroupName: undefined, clusterIdentifier: "c1", dbUser: "sync" }), { client });
    const serverless = createDataApiExecutor(config({ secretArn }), { client });
    // Redshift mode: DbUser names a database user that must exist.
    await serverless.query("CREATE USER sync PASSWORD DISABLE");
    await api.reset();
    await provisioned.query("SELECT 1");
    await serverless.transaction(["SELECT 1"]);
    expect(api.statements().map((s) => s.connection)).toEqual([
      { Database: "dev", ClusterIdentifier: "c1", DbUser: "sync" },
      { Database: "dev", WorkgroupName: "wg", SecretArn: secretArn },
    ]);
    client.destroy();
  });

  it("builds its own client from region and endpoint (default credential chain)", async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = "test";
    process.env.AWS_SECRET_ACCESS_KEY = "test";
    try {
      const executor = createDataApiExecutor(config({ endpoint: api.endpoint, region: "eu-west-1" }));
      expect(await executor.query("SELECT 'ok' AS status")).toEqual([{ status: "ok" }]);
      await executor.close();
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });
});

/**
 * dialect postgres on a Data API target (an endpoint that runs PostgreSQL): kept for what only that
 * mode can show. A blob: the Redshift mode has no VARBYTE, and PostgreSQL's bytea is the one type the
 * endpoint returns as blobValue.
 */
describe("data-api executor, dialect postgres", () => {
  it("decodes a bytea column from blobValue", async () => {
    const api = await startLocalDataApi();
    const client = sdkClient(api.endpoint);
    const executor = createDataApiExecutor(config({ dialect: "postgres", endpoint: api.endpoint }), { client });
    try {
      expect(await executor.query("SELECT '\\x0102'::bytea AS raw")).toEqual([{ raw: "AQI=" }]);
    } finally {
      await executor.close();
      client.destroy();
      await api.stop();
    }
  });
});

describe("fieldValue", () => {
  it("decodes each member of the Field union", () => {
    expect(fieldValue({ isNull: true })).toBeNull();
    expect(fieldValue({ longValue: 7 })).toBe(7);
    expect(fieldValue({ doubleValue: 0.5 })).toBe(0.5);
    expect(fieldValue({ booleanValue: false })).toBe(false);
    expect(fieldValue({ stringValue: "12.50" })).toBe("12.50");
    expect(fieldValue({ blobValue: new Uint8Array([1, 2]) })).toBe("AQI=");
    expect(() => fieldValue({ $unknown: ["arrayValue", {}] })).toThrow(/unknown Data API field/);
  });
});
