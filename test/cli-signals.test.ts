import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeSnapshot } from "../src/catalog/snapshot.js";
import { catalog, database, policy, role, table } from "./support/catalog-builders.js";
import { createTestDatabase, type RunningPostgres, startPostgres } from "./support/postgres.js";

/**
 * Issue 13 item 4: `reconcile` and `apply` handle SIGTERM/SIGINT the way `serve` does: the running
 * batch finishes, the run is recorded, the lease released, and only then does the process exit.
 */
const ROOT = resolve(import.meta.dirname, "..");
let server: RunningPostgres;
let url: string;
let dir: string;
let admin: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  url = await createTestDatabase(server.url);
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query("CREATE ROLE analyst NOLOGIN; CREATE SCHEMA sales; CREATE TABLE sales.orders (id int, amount int)");
  dir = await mkdtemp(join(tmpdir(), "lfsync-signals-"));
  const snapshot = catalog({
    databases: [database("sales", { access: "internal" }, [table("orders", {}, ["id", "amount"])])],
    policies: [policy(role("analyst"), "TABLE", { access: ["internal"] }, ["SELECT"])],
  });
  await writeFile(join(dir, "snapshot.json"), serializeSnapshot({ ...snapshot, tags: { access: ["internal"] } }, "json"));
  await writeFile(join(dir, "config.yaml"), `source: {kind: file, path: snapshot.json}\ntarget: {kind: postgres, url: ${JSON.stringify(url)}, lockTimeoutMs: 60000}\n`);
}, 180_000);

afterAll(async () => {
  await admin?.end();
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function until(predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("reconcile on SIGTERM", () => {
  it("lets the running batch finish, records the run and exits, instead of dying mid-run", async () => {
    // Another session keeps sales.orders in an open transaction: the run's GRANT waits for it.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query("BEGIN; ALTER TABLE sales.orders ADD COLUMN note text");
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli.ts"), "reconcile", "--config", join(dir, "config.yaml")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child!.once("exit", (code, signal) => done({ code, signal })));
      const waiting = async () => (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'GRANT%'")).rows[0].n === 1;
      let stderr = "";
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      await until(async () => child!.exitCode !== null || (await waiting()), 90_000);
      expect(child.exitCode, stderr).toBeNull();

      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 500));
      expect(child.exitCode).toBeNull(); // still finishing its batch
      await holder.query("ROLLBACK");

      expect(await exit).toEqual({ code: 0, signal: null });
      expect(stdout).toMatch(/succeeded, 2 granted/); // USAGE on the schema and SELECT on the table
      const runs = await admin.query("SELECT status FROM lfsync.runs");
      expect(runs.rows).toEqual([{ status: "succeeded" }]);
      expect((await admin.query("SELECT has_table_privilege('analyst', 'sales.orders', 'SELECT') AS granted")).rows).toEqual([{ granted: true }]);
    } finally {
      if (child?.exitCode === null) child.kill("SIGKILL");
      await holder.end();
    }
  }, 150_000);
});
