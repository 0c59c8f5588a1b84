import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { reconcile } from "../../src/run/reconcile.js";
import { runMigrations } from "../../src/warehouse/migrate.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { createPostgresExecutor, type PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { assertStateTrusted, listRuns, trustProblems, type TrustFacts } from "../../src/warehouse/state-store.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { createTestDatabase, type RunningPostgres, startPostgres } from "../support/postgres.js";
import { targetBackends } from "../support/targets.js";

/** Issue 13 item 1: a state schema someone else controls is refused before the service writes to it. */

const snapshot = catalog({
  databases: [database("sales", { access: "public" }, [table("orders", {}, ["id"])])],
  expressions: {},
  policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
});
const source = { read: async () => ({ snapshot, warnings: [] }) };

describe("trustProblems (both dialects' facts)", () => {
  const mine: TrustFacts = {
    user: "lfsync",
    schema: { owner: "lfsync", writers: null },
    relations: [{ name: "grant_slots", kind: "r", owner: "lfsync", triggers: 0, rules: 0, writers: null }],
  };
  it("trusts a schema the user owns alone, and a schema that does not exist yet", () => {
    expect(trustProblems("lfsync", mine)).toEqual([]);
    expect(trustProblems("lfsync", { user: "lfsync", schema: null, relations: [] })).toEqual([]);
  });
  it("names every reason not to", () => {
    const problems = trustProblems("lfsync", {
      user: "lfsync",
      schema: { owner: "mallory", writers: "group devs CREATE" },
      relations: [
        { name: "grant_slots", kind: "r", owner: "mallory", triggers: 1, rules: 0, writers: "PUBLIC INSERT" },
        { name: "runs", kind: "v", owner: "lfsync", triggers: 0, rules: 1, writers: null },
      ],
    });
    expect(problems).toEqual([
      "schema lfsync is owned by mallory, not lfsync",
      "others may create objects in schema lfsync: group devs CREATE",
      "lfsync.grant_slots is owned by mallory, not lfsync",
      "lfsync.grant_slots has 1 trigger(s)",
      "others may write to lfsync.grant_slots: PUBLIC INSERT",
      "lfsync.runs is not a plain table (relkind v)",
      "lfsync.runs has 1 rule(s)",
    ]);
  });
  it("never trusts public or a system schema", () => {
    expect(trustProblems("public", { ...mine, schema: null })).toEqual(['"public" cannot be the state schema: others may create objects in it']);
    expect(trustProblems("pg_temp_3", { ...mine, schema: null })).toHaveLength(1);
  });
  it("is forbidden in the config", () => {
    const parse = (stateSchema: string) => configSchema.safeParse({ source: { kind: "file", path: "x" }, target: { kind: "pglite" }, stateSchema });
    expect(parse("public").error?.issues[0]).toMatchObject({ path: ["stateSchema"], message: expect.stringContaining("not public") });
    expect(parse("pg_x").success).toBe(false);
    expect(parse("lfsync").success).toBe(true);
  });
});

describe("state schema trust on a PostgreSQL server", () => {
  let server: RunningPostgres;
  let adminUrl: string;
  let admin: PostgresExecutor;
  beforeAll(async () => {
    server = await startPostgres();
    adminUrl = await createTestDatabase(server.url);
    admin = createPostgresExecutor(adminUrl);
  });
  afterAll(async () => {
    await admin.close();
    await server.stop();
  });

  /** A session as `user` (the server trusts local connections: no password). */
  async function as(user: string, statements: readonly string[]): Promise<void> {
    const url = new URL(adminUrl);
    url.username = user;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  }

  const isSuperuser = async (user: string): Promise<boolean> =>
    (await admin.query(`SELECT rolsuper FROM pg_roles WHERE rolname = '${user}'`))[0]?.rolsuper === true;

  const config = (stateSchema: string) =>
    configSchema.parse({ source: { kind: "file", path: "unused" }, target: { kind: "postgres", url: adminUrl }, stateSchema, safety: { maxRevokes: 10, maxRevokeRatio: 1 } });

  it("refuses a grant_slots that a non-superuser pre-created with a trigger that makes them superuser; nobody becomes superuser", async () => {
    const db = new URL(adminUrl).pathname.slice(1);
    await admin.transaction([`CREATE ROLE mallory LOGIN`, `GRANT CREATE ON DATABASE ${db} TO mallory`, `CREATE ROLE analyst NOLOGIN`, "CREATE SCHEMA sales", "CREATE TABLE sales.orders (id int)"]);
    await as("mallory", [
      "CREATE SCHEMA lfsync",
      "CREATE TABLE lfsync.grant_slots (grantee_kind VARCHAR(8), grantee VARCHAR(512), schema_name VARCHAR(512), privilege VARCHAR(16), columns VARCHAR(65535), policies VARCHAR(65535), tables VARCHAR(65535), part SMALLINT, row_key VARCHAR(12), run_ref VARCHAR(8))",
      "CREATE FUNCTION lfsync.promote() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE mallory SUPERUSER; RETURN NULL; END $$",
      "CREATE TRIGGER promote AFTER INSERT ON lfsync.grant_slots FOR EACH ROW EXECUTE FUNCTION lfsync.promote()",
      "GRANT USAGE ON SCHEMA lfsync TO PUBLIC",
    ]);
    // The service connects as the server's superuser: what the trigger would run as.
    const run = await reconcile({ config: config("lfsync"), source, executor: admin, lock: createMemoryLock(), logger: createLogger("silent") });
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("STATE_UNTRUSTED");
    expect(run.error?.message).toContain("schema lfsync is owned by mallory");
    expect(run.error?.message).toContain("lfsync.grant_slots has 1 trigger(s)");
    expect(await isSuperuser("mallory")).toBe(false);
    // Nothing was written: no migrations table, no run row, no grant.
    expect(await admin.query("SELECT to_regclass('lfsync.migrations') AS t")).toEqual([{ t: null }]);
    expect(await admin.query("SELECT count(*) AS n FROM lfsync.grant_slots")).toEqual([{ n: "0" }]);
    expect(await admin.query("SELECT has_table_privilege('analyst', 'sales.orders', 'SELECT') AS granted")).toEqual([{ granted: false }]);
  });

  it("refuses a table someone else may write to, a trigger on its own table and a schema others may create in", async () => {
    await runMigrations(admin, "own");
    await assertStateTrusted(admin, "own");
    await admin.transaction(["GRANT INSERT ON own.runs TO PUBLIC"]);
    await expect(assertStateTrusted(admin, "own")).rejects.toMatchObject({ code: "STATE_UNTRUSTED", message: expect.stringContaining("others may write to own.runs: PUBLIC INSERT") });
    await admin.transaction(["REVOKE INSERT ON own.runs FROM PUBLIC", "GRANT CREATE ON SCHEMA own TO mallory"]);
    await expect(assertStateTrusted(admin, "own")).rejects.toMatchObject({ message: expect.stringContaining("others may create objects in schema own: mallory CREATE") });
    await admin.transaction([
      "REVOKE CREATE ON SCHEMA own FROM mallory",
      "CREATE FUNCTION own.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
      "CREATE TRIGGER noop AFTER INSERT ON own.grant_slots FOR EACH ROW EXECUTE FUNCTION own.noop()",
    ]);
    await expect(assertStateTrusted(admin, "own")).rejects.toMatchObject({ message: expect.stringContaining("own.grant_slots has 1 trigger(s)") });
    await admin.transaction(["DROP TRIGGER noop ON own.grant_slots", "CREATE RULE quiet AS ON DELETE TO own.runs DO INSTEAD NOTHING"]);
    await expect(assertStateTrusted(admin, "own")).rejects.toMatchObject({ message: expect.stringContaining("own.runs has 1 rule(s)") });
    await admin.transaction(["DROP RULE quiet ON own.runs"]);
    await assertStateTrusted(admin, "own");
  });

  it("runs on a trusted schema and records a run that failed before it started, with its code", async () => {
    const trusted = config("trusted");
    const failing = { read: () => Promise.reject(Object.assign(new Error("AccessDenied"), { name: "AccessDeniedException" })) };
    const ok = await reconcile({ config: trusted, source, executor: admin, lock: createMemoryLock(), logger: createLogger("silent") });
    expect(ok.error).toBeNull();
    const failed = await reconcile({ config: trusted, source: failing, executor: admin, lock: createMemoryLock(), logger: createLogger("silent"), command: "webhook" });
    expect(failed.status).toBe("failed");
    const runs = await listRuns(admin, "trusted", 10);
    expect(runs.map((r) => [r.command, r.status, r.errorCode])).toEqual([
      ["webhook", "failed", failed.error?.code],
      ["apply", "succeeded", null],
    ]);
    expect(runs[0]?.message).toContain("AccessDenied");
  });
});

describe.each(targetBackends().filter((b) => b.name === "Data API endpoint"))("state schema trust in the redshift dialect, through the $name", (backend) => {
  let executor: SqlExecutor;
  beforeAll(async () => {
    executor = await backend.open();
  });
  afterAll(async () => {
    await executor.close();
  });

  it("reads owners and privileges from pg_class, pg_user and the SVV views, and refuses what another identity may write", async () => {
    expect(executor.dialect).toBe("redshift");
    await runMigrations(executor, "rs_state");
    await assertStateTrusted(executor, "rs_state");
    await executor.transaction(["CREATE GROUP rs_writers", "GRANT INSERT ON rs_state.runs TO GROUP rs_writers"]);
    await expect(assertStateTrusted(executor, "rs_state")).rejects.toMatchObject({
      code: "STATE_UNTRUSTED",
      message: expect.stringContaining("others may write to rs_state.runs: group rs_writers INSERT"),
    });
    await executor.transaction(["REVOKE INSERT ON rs_state.runs FROM GROUP rs_writers", "GRANT CREATE ON SCHEMA rs_state TO GROUP rs_writers"]);
    await expect(assertStateTrusted(executor, "rs_state")).rejects.toMatchObject({ message: expect.stringContaining("others may create objects in schema rs_state: group rs_writers CREATE") });
    await executor.transaction(["REVOKE CREATE ON SCHEMA rs_state FROM GROUP rs_writers", "CREATE USER rs_mallory PASSWORD DISABLE", "ALTER TABLE rs_state.grant_slots OWNER TO rs_mallory"]);
    await expect(assertStateTrusted(executor, "rs_state")).rejects.toMatchObject({ message: expect.stringContaining("rs_state.grant_slots is owned by rs_mallory") });
  });
});
