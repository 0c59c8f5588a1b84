import { describe, expect, it } from "vitest";
import { serializeSnapshot } from "../../src/catalog/snapshot.js";
import type { CatalogSnapshot } from "../../src/catalog/model.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile } from "../../src/run/reconcile.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { harnessPerFile, REPORT_TOKEN } from "./harness.js";

/**
 * The hardening review's catalog (issue 13 item 5): an expression of 1,000 values x 250 characters
 * over 2,200 tables, a snapshot of about 640 KB. Each change used to repeat the policy's label, and
 * `GET /plan`, `plan --format json` and `reconcile` failed with "Invalid string length".
 */
function largeCatalog(): CatalogSnapshot {
  const values = Array.from({ length: 1000 }, (_, i) => `v${String(i).padStart(4, "0")}${"x".repeat(245)}`);
  const tables = Array.from({ length: 2200 }, (_, i) => table(`t${i}`, {}, ["id"]));
  const snapshot = catalog({ databases: [database("big", { access: values[0]! }, tables)], policies: [policy(role("analyst"), "TABLE", { access: values }, ["SELECT"])] });
  return { ...snapshot, tags: { access: values } };
}

const bearer = { authorization: `Bearer ${REPORT_TOKEN}` };
const file = harnessPerFile(
  { debounceMs: 0 },
  async (h) => {
    h.holder.snapshot = largeCatalog();
    await mirrorCatalog(h.executor, h.holder.snapshot, mapEntitlements(resolvePolicies(h.holder.snapshot), h.config.mapping, "postgres").grantees, new Set());
  },
  180_000,
);

describe("a 640 KB catalog with one huge expression", () => {
  it("is the review's size", () => {
    expect(serializeSnapshot(file.h.holder.snapshot, "json").length).toBeGreaterThan(500_000);
  });

  it("GET /plan answers JSON with the policy listed once, and text and HTML, each well under the old size", async () => {
    const json = await file.h.app.inject({ url: "/plan", headers: { ...bearer, accept: "application/json" } });
    expect(json.statusCode).toBe(200);
    const plan = JSON.parse(json.body) as { policies: { id: string; expression: string }[]; changes: { because: string[] }[] };
    expect(plan.policies).toHaveLength(1);
    expect(plan.changes).toHaveLength(2201); // USAGE on the schema and SELECT on each table
    expect(new Set(plan.changes.flatMap((c) => c.because))).toEqual(new Set([plan.policies[0]!.id]));
    // The expression (about 250 KB) appears once, not once per change.
    expect(json.body.length).toBeLessThan(2_000_000);
    for (const accept of ["text/plain", "text/html"]) {
      const response = await file.h.app.inject({ url: "/plan", headers: { ...bearer, accept } });
      expect(response.statusCode).toBe(200);
      expect(response.body.length).toBeLessThan(3_000_000);
      expect(response.body).toContain("big.t2199");
    }
  }, 120_000);

  it("reconcile applies it and records the run as succeeded", async () => {
    const summary = await reconcile({ config: file.h.config, source: { read: async () => ({ snapshot: file.h.holder.snapshot, warnings: [] }) }, executor: file.h.executor, lock: createMemoryLock(), logger: createLogger("silent") });
    expect(summary.error).toBeNull();
    expect(summary.status).toBe("succeeded");
    expect(summary.result?.appliedChanges.grants).toBe(2201);
  }, 180_000);
});
