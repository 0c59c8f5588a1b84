import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { migrateCommand } from "../../src/run/commands/migrate.js";
import type { CatalogSource } from "../../src/catalog/model.js";
import { configSchema } from "../../src/config/schema.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { runIncremental } from "../../src/run/incremental.js";
import { prepareState, reconcile } from "../../src/run/reconcile.js";
import { createSnapshotCache } from "../../src/run/snapshot-cache.js";
import { createPgliteExecutor } from "../../src/warehouse/postgres-executor.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";

/**
 * Reads of the state schema are as dangerous as writes (issue 13 item 1): a `grant_slots` view that
 * someone else swapped in runs their function as the service's user, a superuser, on SELECT. The
 * read-only plan (plan, GET /plan, access) and an event's incremental run check the state schema's
 * trust before they read it, as a full run does before it writes.
 */
const snapshot = catalog({
  databases: [database("sales", { access: "public" }, [table("orders", {}, ["id"])])],
  policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
});

describe("reads of an untrusted state schema (PGlite)", () => {
  it("plan, an incremental run and migrate refuse a grant_slots view whose function would make its owner superuser", async () => {
    const executor = await createPgliteExecutor({});
    try {
      const holder = { snapshot };
      const source: CatalogSource = {
        read: async () => ({ snapshot: holder.snapshot, warnings: [] }),
        resources: {
          readTable: async (db, name) => holder.snapshot.databases.find((d) => d.name === db)?.tables.find((t) => t.name === name) ?? null,
          readDatabaseTags: async (db) => holder.snapshot.databases.find((d) => d.name === db)?.tags ?? null,
          readPolicies: async () => ({ policies: holder.snapshot.policies, expressions: holder.snapshot.expressions, warnings: [] }),
        },
      };
      const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" }, safety: { maxRevokes: 100, maxRevokeRatio: 1 } });
      await mirrorCatalog(executor, snapshot, mapEntitlements(resolvePolicies(snapshot), config.mapping, "postgres").grantees, new Set());
      const cache = createSnapshotCache(source);
      const deps = { config, cache, executor, lock: createMemoryLock(), logger: createLogger("silent") };
      expect((await reconcile({ ...deps, source: cache.source })).status).toBe("succeeded");

      // Someone swaps grant_slots for a view over it that calls their function.
      await executor.transaction([
        "CREATE ROLE mallory NOLOGIN",
        "CREATE FUNCTION lfsync.promote() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE mallory SUPERUSER; RETURN true; END $$",
        "ALTER TABLE lfsync.grant_slots RENAME TO grant_slots_kept",
        "GRANT SELECT ON lfsync.grant_slots_kept TO mallory",
        "CREATE VIEW lfsync.grant_slots AS SELECT * FROM lfsync.grant_slots_kept WHERE lfsync.promote()",
        "ALTER FUNCTION lfsync.promote() OWNER TO mallory",
        "ALTER VIEW lfsync.grant_slots OWNER TO mallory",
      ]);
      const isSuperuser = async () => (await executor.query("SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"))[0]?.rolsuper;

      await expect(computePlan({ config, source, executor })).rejects.toMatchObject({ code: "STATE_UNTRUSTED", message: expect.stringContaining("lfsync.grant_slots") });
      expect(await isSuperuser()).toBe(false);
      // An event that changes something: orders is no longer public, so the incremental run must read what it recorded.
      holder.snapshot = catalog({
        databases: [database("sales", { access: "public" }, [table("orders", { access: "secret" }, ["id"])])],
        policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
      });
      const incremental = await runIncremental([{ kind: "table", database: "sales", table: "orders" }], deps).catch((error: unknown) => error);
      expect(incremental).toMatchObject({ code: "STATE_UNTRUSTED" });
      expect(await isSuperuser()).toBe(false);
      // `migrate` (what the migrate command runs) refuses it too, before it reads the migrations table.
      await expect(prepareState(executor, config.stateSchema, createLogger("silent"))).rejects.toMatchObject({ code: "STATE_UNTRUSTED" });
    } finally {
      await executor.close();
    }
  });

  it("the migrate command refuses a state schema someone else owns, and creates nothing in it", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "lfsync-untrusted-"));
    try {
      const setup = await createPgliteExecutor({ dataDir });
      await setup.transaction(["CREATE ROLE mallory NOLOGIN", "CREATE SCHEMA lfsync AUTHORIZATION mallory"]);
      await setup.close();
      const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
      const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite", dataDir }, logLevel: "silent" });
      await expect(migrateCommand(config).finally(() => write.mockRestore())).rejects.toMatchObject({ code: "STATE_UNTRUSTED", message: expect.stringContaining("owned by mallory") });
      const check = await createPgliteExecutor({ dataDir });
      expect(await check.query("SELECT to_regclass('lfsync.migrations') AS t")).toEqual([{ t: null }]);
      await check.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
