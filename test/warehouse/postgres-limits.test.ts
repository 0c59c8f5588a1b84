import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { reconcile } from "../../src/run/reconcile.js";
import { targetKey } from "../../src/run/wiring.js";
import { getRun } from "../../src/warehouse/state-store.js";
import { createPostgresExecutor, type PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { createTestDatabase, type RunningPostgres, startPostgres } from "../support/postgres.js";

/**
 * Issue 13 item 4, on a real PostgreSQL server: every session carries statement_timeout and
 * lock_timeout, every batch has a deadline, and a run blocked by someone else's lock ends, failed
 * and recorded, instead of waiting forever.
 */
let server: RunningPostgres;
let url: string;
let holder: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  url = await createTestDatabase(server.url);
  holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query("CREATE ROLE analyst NOLOGIN; CREATE SCHEMA sales; CREATE TABLE sales.orders (id int, amount int)");
}, 180_000);

afterAll(async () => {
  await holder?.end();
  await server?.stop();
});

/**
 * Runs `body` while another session holds sales.orders in an open transaction: ACCESS EXCLUSIVE and
 * an uncommitted ALTER TABLE, whose new catalog row a GRANT must wait for (a migration left open).
 */
async function whileLocked<T>(body: () => Promise<T>): Promise<T> {
  await holder.query("BEGIN; LOCK TABLE sales.orders IN ACCESS EXCLUSIVE MODE; ALTER TABLE sales.orders ADD COLUMN note text");
  try {
    return await body();
  } finally {
    await holder.query("ROLLBACK");
  }
}

describe("PostgreSQL executor limits", () => {
  it("sets statement_timeout and lock_timeout on every session, from the config or the defaults", async () => {
    const configured = createPostgresExecutor(url, { statementTimeoutMs: 12_345, lockTimeoutMs: 678 });
    const defaults = createPostgresExecutor(url);
    try {
      expect(await configured.query("SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l")).toEqual([{ s: "12345ms", l: "678ms" }]);
      expect(await defaults.query("SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l")).toEqual([{ s: "15min", l: "30s" }]);
    } finally {
      await configured.close();
      await defaults.close();
    }
  });

  it("fails a batch that waits on another session's lock after lock_timeout, and rolls it back", async () => {
    const executor = createPostgresExecutor(url, { lockTimeoutMs: 200 });
    try {
      const error = await whileLocked(() => executor.transaction(["GRANT SELECT ON sales.orders TO analyst"]).then(() => null, (e: unknown) => e));
      expect(error).toMatchObject({ code: "TARGET_FAILED", message: expect.stringMatching(/lock timeout/) });
      expect(await executor.query("SELECT has_table_privilege('analyst', 'sales.orders', 'SELECT') AS granted")).toEqual([{ granted: false }]);
    } finally {
      await executor.close();
    }
  });

  it("cancels a batch past its deadline on the server, and the executor stays usable", async () => {
    const executor = createPostgresExecutor(url, { batchTimeoutMs: 300 });
    try {
      const error = await executor.transaction(["SELECT 1", "SELECT pg_sleep(60)"]).then(() => null, (e: unknown) => e);
      expect(error).toMatchObject({ code: "TARGET_FAILED", message: expect.stringMatching(/did not finish within 300 ms \(target\.batchTimeoutMs\) and was cancelled/) });
      // Cancelled on the server, not only abandoned by the client.
      const sleeping = async () => (await executor.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"))[0]?.n;
      for (let i = 0; i < 100 && (await sleeping()) !== 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await sleeping()).toBe(0);
      await executor.transaction(["SELECT 1"]);
    } finally {
      await executor.close();
    }
  });

  it("ends a reconcile blocked by another session's lock as failed, recorded in the run log, lease released", async () => {
    const config = configSchema.parse({ source: { kind: "file", path: "unused" }, target: { kind: "postgres", url, lockTimeoutMs: 300 } });
    const snapshot = catalog({
      databases: [database("sales", { access: "internal" }, [table("orders", {}, ["id", "amount"])])],
      policies: [policy(role("analyst"), "TABLE", { access: ["internal"] }, ["SELECT"])],
    });
    const executor: PostgresExecutor = createPostgresExecutor(url, config.target.kind === "postgres" ? config.target : {});
    const lock = createMemoryLock();
    try {
      const source = { read: async () => ({ snapshot: { ...snapshot, tags: { access: ["internal"] } }, warnings: [] }) };
      const summary = await whileLocked(() => reconcile({ config, source, executor, lock, logger: createLogger("silent") }));
      expect(summary.status).toBe("failed");
      expect(summary.error?.message).toMatch(/lock timeout/);
      const run = await getRun(executor, config.stateSchema, summary.runId);
      expect(run).toMatchObject({ status: "failed", message: expect.stringMatching(/lock timeout/) });
      expect(run?.finishedAt).not.toBeNull();
      const again = await lock.acquire(targetKey(config), "probe");
      await again.release();
      // Once the other session lets go, the next run converges.
      expect((await reconcile({ config, source, executor, lock, logger: createLogger("silent") })).status).toBe("succeeded");
    } finally {
      await lock.close();
      await executor.close();
    }
  });
});
