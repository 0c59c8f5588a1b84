import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors.js";
import { createPgliteExecutor, type PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { executorBackends } from "../support/postgres.js";

describe.each(executorBackends())("postgres executor on $name", (backend) => {
  let executor: PostgresExecutor;
  beforeAll(async () => {
    executor = await backend.open();
  });
  afterAll(async () => {
    await executor.close();
  });

  it("speaks the postgres dialect", () => {
    expect(executor.dialect).toBe("postgres");
  });

  it("returns plain rows: ISO timestamps, BIGINT and NUMERIC as strings, NULL as null", async () => {
    const rows = await executor.query(
      `SELECT 1 AS i, 9007199254740993::BIGINT AS big, 12.50::NUMERIC(10,2) AS amount, 'x' AS t, NULL::TEXT AS nothing,
              TRUE AS yes, '2026-11-23 19:00:00.5'::TIMESTAMP AS at, '2026-11-23 19:00:00+02'::TIMESTAMPTZ AS atz,
              ARRAY['a','b'] AS list`,
    );
    expect(rows).toEqual([
      {
        i: 1,
        big: "9007199254740993",
        amount: "12.50",
        t: "x",
        nothing: null,
        yes: true,
        at: "2026-11-23T19:00:00.500Z",
        atz: "2026-11-23T17:00:00.000Z",
        list: expect.any(String),
      },
    ]);
  });

  it("commits a transaction of several statements", async () => {
    await executor.transaction(["CREATE TABLE committed (v INT)", "INSERT INTO committed VALUES (1)", "INSERT INTO committed VALUES (2)"]);
    expect(await executor.query("SELECT v FROM committed ORDER BY v")).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it("undoes the whole transaction when the third statement fails, and names it", async () => {
    await executor.execScript("CREATE TABLE t (v INT); CREATE TABLE other (v INT)");
    const failing = executor.transaction([
      "INSERT INTO t VALUES (1)",
      "INSERT INTO other VALUES (2)",
      "INSERT INTO no_such_table VALUES (3)",
      "INSERT INTO t VALUES (4)",
    ]);
    await expect(failing).rejects.toSatisfy((error: unknown) => {
      expect(error).toBeInstanceOf(SyncError);
      const syncError = error as SyncError;
      expect(syncError.code).toBe("TARGET_FAILED");
      expect(syncError.message).toContain("statement 3 of 4");
      expect(syncError.message).toContain("INSERT INTO no_such_table VALUES (3)");
      expect(syncError.message).toContain("no_such_table");
      expect(syncError.cause).toBeDefined();
      return true;
    });
    expect(await executor.query("SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM other) AS n")).toEqual([{ n: "0" }]);
    // The session is usable again after the rollback.
    await executor.transaction(["INSERT INTO t VALUES (5)"]);
    expect(await executor.query("SELECT v FROM t")).toEqual([{ v: 5 }]);
  });

  it("quotes only the first 300 characters of a long failing statement", async () => {
    const long = `SELECT * FROM missing_table WHERE ${"x = 1 AND ".repeat(100)}TRUE`;
    await expect(executor.transaction([long])).rejects.toThrow(/statement 1 of 1.*missing_table/);
    await expect(executor.transaction([long])).rejects.toSatisfy(
      (error: unknown) => !(error as Error).message.includes(long.slice(0, 301)),
    );
  });

  it("reports a failing query as TARGET_FAILED with the database's message", async () => {
    await expect(executor.query("SELECT * FROM nowhere")).rejects.toMatchObject({
      code: "TARGET_FAILED",
      message: expect.stringContaining('relation "nowhere" does not exist'),
    });
  });
});

describe("PGlite with a data directory", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lfsync-pglite-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps what was committed across a close and reopen", async () => {
    const first = await createPgliteExecutor({ dataDir: dir });
    await first.transaction(["CREATE TABLE kept (v TEXT)", "INSERT INTO kept VALUES ('persisted')"]);
    await first.close();
    const second = await createPgliteExecutor({ dataDir: dir });
    try {
      expect(await second.query("SELECT v FROM kept")).toEqual([{ v: "persisted" }]);
    } finally {
      await second.close();
    }
  });
});
