import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { targetKey } from "../../src/run/wiring.js";
import type { PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { type Harness, openTestDatabase, REPORT_TOKEN, startHarness, waitFor } from "./harness.js";

/**
 * Runs the run log cannot take (issue 13 item 15, README "Security model"): a run refused because
 * the state schema is untrusted writes nothing into it, and a run that fails before the state schema
 * exists has no `runs` table to write to. Both are still listed by GET /runs (kept in memory,
 * marked `unrecorded`), counted in /metrics, and logged.
 */
describe("GET /runs lists the runs the run log could not take", () => {
  let executor: PostgresExecutor;
  let h: Harness;
  beforeAll(async () => {
    executor = await openTestDatabase();
  });
  afterAll(async () => {
    await h?.close();
    await executor.close();
  });

  const report = { authorization: `Bearer ${REPORT_TOKEN}` };
  const runs = async () => (await h.app.inject({ url: "/runs", headers: report })).json<{ runs: Record<string, unknown>[] }>().runs;

  async function oneRun(): Promise<void> {
    const before = h.runs.length;
    h.app.runQueue.enqueue("schedule");
    await waitFor(() => h.runs.length > before);
    await h.app.runQueue.idle();
  }

  it("an untrusted state schema: nothing written into it, the run listed with its code and why", async () => {
    h = await startHarness({ executor });
    await executor.transaction(["CREATE ROLE mallory NOLOGIN", "CREATE SCHEMA lfsync AUTHORIZATION mallory"]);
    try {
      await oneRun();
      const run = h.runs[0]!;
      expect(run.error?.code).toBe("STATE_UNTRUSTED");
      // Not a byte into the untrusted schema: no run log, no migrations.
      expect(await executor.query("SELECT to_regclass('lfsync.runs') AS runs, to_regclass('lfsync.migrations') AS migrations")).toEqual([{ runs: null, migrations: null }]);
      const listed = await runs();
      expect(listed).toEqual([
        expect.objectContaining({ runId: run.runId, status: "failed", errorCode: "STATE_UNTRUSTED", unrecorded: expect.stringContaining("trust check") }),
      ]);
      expect(listed[0]?.message).toContain("owned by mallory");
      const one = await h.app.inject({ url: `/runs/${run.runId}`, headers: report });
      expect(one.json()).toMatchObject({ runId: run.runId, unrecorded: expect.any(String) });
      const metrics = (await h.app.inject({ url: "/metrics" })).body;
      expect(metrics).toContain('lfsync_runs_unrecorded_total{code="STATE_UNTRUSTED"} 1');
    } finally {
      await h.close();
      await executor.transaction(["DROP SCHEMA lfsync CASCADE", "DROP ROLE mallory"]);
    }
  });

  it("a run that fails before the state schema exists (the lease is held), then runs that the run log records: all listed, newest first", async () => {
    h = await startHarness({ executor, server: { debounceMs: 10 } });
    const held = await h.lock.acquire(targetKey(h.config), "another process");
    await oneRun();
    await held.release();
    const busy = h.runs[0]!;
    expect(busy.error?.code).toBe("LEASE_HELD");
    expect(busy.unrecorded?.unrecorded).toContain("no run log yet");
    await oneRun();
    expect(h.runs.at(-1)?.status).toBe("succeeded");
    expect(h.runs.at(-1)?.unrecorded).toBeUndefined();
    const listed = await runs();
    expect(listed.map((r) => [r.runId, r.errorCode, r.unrecorded !== undefined])).toEqual([
      [h.runs.at(-1)!.runId, null, false],
      [busy.runId, "LEASE_HELD", true],
    ]);
    expect((await h.app.inject({ url: "/runs?limit=1", headers: report })).json<{ runs: unknown[] }>().runs).toHaveLength(1);
  });

  it("never reads a run log it cannot trust: a `runs` view someone else made, whose function would make them superuser, is not queried", async () => {
    h = await startHarness({ executor });
    await executor.transaction([
      "CREATE ROLE mallory NOLOGIN",
      "CREATE SCHEMA lfsync AUTHORIZATION mallory",
      "CREATE FUNCTION lfsync.promote() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE mallory SUPERUSER; RETURN true; END $$",
      "CREATE VIEW lfsync.runs AS SELECT 'forged'::text AS run_id, 'apply'::text AS command, 'succeeded'::text AS status, now()::timestamp AS started_at, NULL::timestamp AS finished_at," +
        " NULL::bigint AS fencing_token, NULL::text AS catalog_hash, NULL::bigint AS grants, NULL::bigint AS revokes, NULL::bigint AS pending, NULL::bigint AS batches_applied," +
        " NULL::bigint AS batches_total, NULL::text AS error_code, NULL::text AS message WHERE lfsync.promote()",
      "ALTER FUNCTION lfsync.promote() OWNER TO mallory",
      "ALTER VIEW lfsync.runs OWNER TO mallory",
    ]);
    try {
      await oneRun();
      const listed = await h.app.inject({ url: "/runs", headers: report });
      expect(listed.statusCode).toBe(200);
      const body = listed.json<{ runs: Record<string, unknown>[]; runLogUntrusted?: string }>();
      expect(body.runs.map((r) => [r.errorCode, r.unrecorded !== undefined])).toEqual([["STATE_UNTRUSTED", true]]);
      expect(body.runLogUntrusted).toContain("lfsync.runs is not a plain table");
      expect((await h.app.inject({ url: "/runs/forged", headers: report })).json()).toMatchObject({ code: "STATE_UNTRUSTED" });
      expect(await executor.query("SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'")).toEqual([{ rolsuper: false }]);
    } finally {
      await h.close();
      await executor.transaction(["DROP SCHEMA lfsync CASCADE", "DROP ROLE mallory"]);
    }
  });
});
