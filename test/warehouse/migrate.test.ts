import { cp, mkdtemp, readdir, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { migrationStatements, pendingMigrations, runMigrations, stateSchemaExists } from "../../src/warehouse/migrate.js";
import type { PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { executorBackends } from "../support/postgres.js";

const MIGRATIONS = fileURLToPath(new URL("../../migrations/", import.meta.url));

describe("migrationStatements", () => {
  it("drops comment lines, splits on a semicolon at the end of a line and quotes the schema", () => {
    const text = "-- header; not a statement;\nCREATE TABLE ${schema}.a (x VARCHAR(8));\n\n  -- note\nINSERT INTO ${schema}.a VALUES ('a;b');  \nSELECT 1";
    expect(migrationStatements(text, 'my "state"')).toEqual([
      'CREATE TABLE "my ""state""".a (x VARCHAR(8))',
      `INSERT INTO "my ""state""".a VALUES ('a;b')`,
      "SELECT 1",
    ]);
  });
});

describe.each(executorBackends())("migrations on $name", (backend) => {
  let executor: PostgresExecutor;
  let dir: string;
  beforeAll(async () => {
    executor = await backend.open();
  });
  afterAll(async () => {
    await executor.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "lfsync-migrations-"));
    await cp(MIGRATIONS, dir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function tablesOf(schema: string): Promise<string[]> {
    const rows = await executor.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = E'${schema}' ORDER BY table_name`,
    );
    return rows.map((row) => String(row.table_name));
  }

  it("creates the state schema, then does nothing on a second run", async () => {
    const files = (await readdir(MIGRATIONS)).filter((name) => name.endsWith(".sql")).sort();
    expect(await stateSchemaExists(executor, "state_a")).toBe(false);
    expect(await pendingMigrations(executor, "state_a")).toEqual(files);

    expect(await runMigrations(executor, "state_a", { at: new Date("2026-11-23T19:00:00Z") })).toEqual({
      applied: files,
      alreadyApplied: [],
    });
    expect(await stateSchemaExists(executor, "state_a")).toBe(true);
    expect(await tablesOf("state_a")).toEqual(["grant_slots", "lease_fence", "migrations", "runs", "tag_assignments"]);
    expect(await executor.query("SELECT version, name, applied_at FROM state_a.migrations ORDER BY version")).toEqual([
      { version: "0001", name: "0001_init.sql", applied_at: "2026-11-23T19:00:00.000Z" },
    ]);
    expect(await executor.query("SELECT fencing_token FROM state_a.lease_fence")).toEqual([{ fencing_token: "0" }]);

    expect(await runMigrations(executor, "state_a")).toEqual({ applied: [], alreadyApplied: files });
    expect(await pendingMigrations(executor, "state_a")).toEqual([]);
    expect(await executor.query("SELECT count(*) AS n FROM state_a.migrations")).toEqual([{ n: String(files.length) }]);
  });

  it("finds a schema it has no privilege on (pg_namespace, not information_schema)", async () => {
    await executor.query("CREATE SCHEMA hidden_state");
    await executor.query("REVOKE ALL ON SCHEMA hidden_state FROM PUBLIC");
    expect(await stateSchemaExists(executor, "hidden_state")).toBe(true);
  });

  it("quotes a state schema name that needs quoting", async () => {
    await runMigrations(executor, 'Odd "State"; --', { dir });
    expect(await tablesOf('Odd "State"; --')).toContain("grant_slots");
  });

  it("applies a new file after the applied ones, in version order", async () => {
    await runMigrations(executor, "state_b", { dir });
    await writeFile(join(dir, "0010_later.sql"), "CREATE TABLE IF NOT EXISTS ${schema}.later (x BIGINT);\n");
    await writeFile(join(dir, "0003_extra.sql"), "-- extra\nCREATE TABLE IF NOT EXISTS ${schema}.extra (x BIGINT);\n");
    expect(await pendingMigrations(executor, "state_b", { dir })).toEqual(["0003_extra.sql", "0010_later.sql"]);
    expect(await runMigrations(executor, "state_b", { dir })).toEqual({
      applied: ["0003_extra.sql", "0010_later.sql"],
      alreadyApplied: ["0001_init.sql"],
    });
    expect(await tablesOf("state_b")).toEqual(["extra", "grant_slots", "later", "lease_fence", "migrations", "runs", "tag_assignments"]);
  });

  it("refuses when an applied file changed", async () => {
    await runMigrations(executor, "state_c", { dir });
    await appendFile(join(dir, "0001_init.sql"), "\n-- edited after it ran\n");
    await expect(runMigrations(executor, "state_c", { dir })).rejects.toMatchObject({
      code: "MIGRATION_FAILED",
      message: expect.stringContaining("0001_init.sql changed after it was applied"),
    });
    await expect(pendingMigrations(executor, "state_c", { dir })).rejects.toMatchObject({ code: "MIGRATION_FAILED" });
  });

  it("refuses when an applied file is missing", async () => {
    await runMigrations(executor, "state_d", { dir });
    await rm(join(dir, "0001_init.sql"));
    await expect(runMigrations(executor, "state_d", { dir })).rejects.toMatchObject({ code: "MIGRATION_FAILED" });
  });

  it("rolls back a failing file with its record, and applies it once fixed", async () => {
    await runMigrations(executor, "state_e", { dir });
    const broken = join(dir, "0003_broken.sql");
    await writeFile(broken, "CREATE TABLE ${schema}.half (x BIGINT);\nINSERT INTO ${schema}.nowhere VALUES (1);\n");
    await expect(runMigrations(executor, "state_e", { dir })).rejects.toMatchObject({
      code: "MIGRATION_FAILED",
      message: expect.stringContaining("0003_broken.sql"),
    });
    expect(await tablesOf("state_e")).not.toContain("half");
    expect(await pendingMigrations(executor, "state_e", { dir })).toEqual(["0003_broken.sql"]);

    await writeFile(broken, "CREATE TABLE ${schema}.half (x BIGINT);\n");
    expect((await runMigrations(executor, "state_e", { dir })).applied).toEqual(["0003_broken.sql"]);
    expect(await tablesOf("state_e")).toContain("half");
  });
});
