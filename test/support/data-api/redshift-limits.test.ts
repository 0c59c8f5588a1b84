import { ExecuteStatementCommand, GetStatementResultCommand, ValidationException } from "@aws-sdk/client-redshift-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "../failure.js";
import { harness, type Harness } from "./harness.js";
import { startLocalDataApi, type LocalDataApi } from "./server.js";

/** The Data API's limits and credential modes in Redshift mode (aws-facts §5.2, §5.3). */
let api: LocalDataApi;
let db: Harness;
beforeAll(async () => {
  api = await startLocalDataApi({
    mode: "redshift",
    redshift: { pageBytes: 2000, maxResultBytes: 50_000, describeFieldNameInUppercase: true, secrets: { "arn:secret:sync": "syncer" } },
  });
  db = harness(api);
  expect(await db.error("CREATE USER syncer PASSWORD DISABLE")).toBeNull();
  expect(await db.error("CREATE TABLE wide (id int, body varchar(65535))")).toBeNull();
  await api.reset();
});
afterAll(async () => {
  db.close();
  await api.stop();
});

describe("Redshift mode: results", () => {
  it("pages by bytes and upper-cases column names on request", async () => {
    const { Id } = await db.client.send(new ExecuteStatementCommand({ Database: "dev", WorkgroupName: "wg", Sql: "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 300) AS g" }));
    await db.finished(Id!);
    const first = await db.client.send(new GetStatementResultCommand({ Id }));
    expect(first.ColumnMetadata?.map((c) => c.name)).toEqual(["N", "LABEL"]);
    expect(first.TotalNumRows).toBe(300);
    // Each record is about 40 bytes of JSON on the wire: a 2000-byte page holds about 50.
    expect(first.Records!.length).toBeGreaterThan(20);
    expect(first.Records!.length).toBeLessThan(60);
    expect(first.NextToken).toBeDefined();
    expect((await db.rows("SELECT g FROM generate_series(1, 300) AS g")).length).toBe(300);
  });

  it("fails a statement whose row is over 64 KB or whose result is over the cap", async () => {
    expect(await db.error("SELECT repeat('x', 70000) AS big")).toMatch(/per row/);
    expect(await db.error("SELECT repeat('x', 1000) FROM generate_series(1, 60)")).toMatch(/exceeds the Data API limit of 50000 bytes/);
    expect(await db.batchError(["INSERT INTO wide VALUES (1, 'a')", "SELECT repeat('x', 70000)"])).toMatch(/per row/);
    expect(await db.rows("SELECT count(*) FROM wide")).toEqual([[0]]);
  });

  it("counts calls, bytes, batches and the largest result read", async () => {
    await api.reset();
    await db.rows("SELECT g FROM generate_series(1, 300) AS g");
    expect(await db.batchError(["SELECT 1", "SELECT 2"])).toBeNull();
    const metrics = api.metrics();
    expect(metrics).toMatchObject({ submitCalls: 2, batches: 1, statements: 3, largestResultRows: 300 });
    expect(metrics.resultCalls).toBeGreaterThan(1);
    expect(metrics.describeCalls).toBeGreaterThanOrEqual(2);
    expect(metrics.sqlBytes).toBe(Buffer.byteLength("SELECT g FROM generate_series(1, 300) AS g") + 16);
    expect(metrics.bytesSent).toBeGreaterThan(metrics.sqlBytes);
    expect(metrics.pagedReadCalls).toBe(0);
  });

  it("counts the calls of keyset pages (a SELECT ending in ORDER BY ... LIMIT n) apart, batch, describe and result included", async () => {
    await api.reset();
    await db.rows("SELECT g FROM generate_series(1, 10) AS g WHERE g > 3 ORDER BY g LIMIT 5");
    const paged = api.metrics();
    expect(paged.pagedReadCalls).toBe(paged.submitCalls + paged.describeCalls + paged.resultCalls);
    expect(paged.pagedReadDescribeCalls).toBe(paged.describeCalls);
    await db.rows("SELECT g FROM generate_series(1, 10) AS g ORDER BY g");
    expect(await db.batchError(["SELECT 1 ORDER BY 1 LIMIT 1"])).toBeNull();
    expect(api.metrics().pagedReadCalls).toBe(paged.pagedReadCalls);
    expect(api.metrics().pagedReadDescribeCalls).toBe(paged.pagedReadDescribeCalls);
  });
});

describe("Redshift mode: credentials", () => {
  it.each([
    [{ SecretArn: "arn:secret:sync", Database: "dev" }],
    [{ SecretArn: "arn:secret:sync", ClusterIdentifier: "c1", Database: "dev" }],
    [{ SecretArn: "arn:secret:sync", WorkgroupName: "wg", Database: "dev" }],
    [{ ClusterIdentifier: "c1", Database: "dev", DbUser: "syncer" }],
    [{ ClusterIdentifier: "c1", Database: "dev" }],
    [{ WorkgroupName: "wg", Database: "dev" }],
  ])("accepts the documented combination %j", async (connection) => {
    expect(await db.error("SELECT 1", connection)).toBeNull();
  });

  it.each([
    [{ WorkgroupName: "wg", Database: "dev", DbUser: "syncer" }],
    [{ ClusterIdentifier: "c1", WorkgroupName: "wg", Database: "dev" }],
    [{ SecretArn: "arn:secret:sync", DbUser: "syncer", ClusterIdentifier: "c1" }],
    [{ ClusterIdentifier: "c1", DbUser: "syncer" }],
    [{ Database: "dev" }],
    [{ SecretArn: "arn:secret:unknown", WorkgroupName: "wg", Database: "dev" }],
    // "When you are connecting to a serverless workgroup, you also supply the database name" (ExecuteStatement API reference, Secrets Manager).
    [{ SecretArn: "arn:secret:sync", WorkgroupName: "wg" }],
    [{ SecretArn: "arn:secret:sync" }],
  ])("refuses %j with ValidationException", async (connection) => {
    const error = await failureOf(db.client.send(new ExecuteStatementCommand({ ...connection, Sql: "SELECT 1" })));
    expect(error).toBeInstanceOf(ValidationException);
  });

  it("runs as the user the credentials name", async () => {
    expect(await db.rows("SELECT current_user", { SecretArn: "arn:secret:sync", Database: "dev" })).toEqual([["syncer"]]);
    expect(await db.rows("SELECT current_user", { ClusterIdentifier: "c1", Database: "dev", DbUser: "syncer" })).toEqual([["syncer"]]);
  });
});
