import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { type Harness, openTestDatabase, REPORT_TOKEN, startHarness } from "./harness.js";

/**
 * A full catalog read takes minutes at 100k tables (README Performance). The idle-socket timeout
 * that cuts slow clients off (server.connectionTimeoutMs) closed the connection of an authenticated
 * report before its answer; server.reportTimeoutMs covers the read instead.
 */
describe("reports that read the whole catalog, slower than the idle-socket timeout", () => {
  let db: PostgresExecutor;
  let h: Harness;
  const get = (path: string) => fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${REPORT_TOKEN}`, accept: "application/json" } });
  beforeAll(async () => {
    db = await openTestDatabase();
    h = await startHarness({ executor: db, server: { connectionTimeoutMs: 1000 } });
    h.holder.readDelayMs = 2500;
  });
  afterAll(async () => {
    await h.close();
    await db.close();
  });

  it("GET /plan?refresh=1 answers with the fresh plan", async () => {
    const response = await get("/plan?refresh=1");
    expect(response.status).toBe(200);
    expect(((await response.json()) as { summary: { grants: number } }).summary.grants).toBeGreaterThan(0);
  });

  it("GET /access answers with the access report", async () => {
    const response = await get("/access?grantee=analyst");
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).toContain("analyst");
  });
});
