import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogSource } from "../../src/catalog/model.js";
import { configSchema } from "../../src/config/schema.js";
import { MAX_BATCH_BYTES, MAX_BATCH_STATEMENTS } from "../../src/core/render.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { reconcile } from "../../src/run/reconcile.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { openRedshift, type RedshiftTarget } from "../warehouse/redshift-target.js";

/**
 * The tag assignments a run records are written in batches the Data API takes: at most 40
 * statements and, as render.ts reads the 100 KB limit (aws-facts §5.3, trap 15; per statement or
 * per call is UNCONFIRMED, so the call is bounded), at most 100 KB of SQL per BatchExecuteStatement.
 * The endpoint here refuses a larger batch, as Redshift would under that reading.
 */
let target: RedshiftTarget;
beforeAll(async () => {
  target = await openRedshift({ maxBatchBytes: MAX_BATCH_BYTES.redshift });
});
afterAll(async () => {
  await target?.close();
});

describe("tag assignments on the redshift dialect", () => {
  it("are written in batches of at most 40 statements and 100 KB, and all of them land", async () => {
    // 30 tables x 60 tagged columns: about 1800 rows, several 100 KB statements.
    const tables = Array.from({ length: 30 }, (_, t) =>
      table(`table_${t}`, { domain: "wide" }, Array.from({ length: 60 }, (_, c) => [`column_with_a_long_name_${c}`, { pii: c % 2 === 0 ? "true" : "false" }] as const)),
    );
    const snapshot = catalog({ databases: [database("wide", { access: "public" }, tables)], policies: [policy(role("analyst"), "TABLE", { access: ["nobody"] }, ["SELECT"])] });
    const source: CatalogSource = { read: async () => ({ snapshot, warnings: [] }) };
    const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" } });
    await target.setup(["CREATE GROUP analyst"]);
    const lock = createMemoryLock();
    const run = await reconcile({ config, source, executor: target.executor, lock, logger: createLogger("silent") });
    await lock.close();
    expect(run.error).toBeNull();
    expect(run.status).toBe("succeeded");
    const [count] = await target.executor.query("SELECT count(*) AS n FROM lfsync.tag_assignments");
    expect(Number(count!.n)).toBe(1 + 30 + 30 * 60);
    for (const batch of target.api.statements().filter((s) => s.isBatch)) {
      expect(batch.sqls.length).toBeLessThanOrEqual(MAX_BATCH_STATEMENTS);
      expect(batch.sqls.reduce((sum, sql) => sum + Buffer.byteLength(sql, "utf8"), 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES.redshift);
    }
  });
});
