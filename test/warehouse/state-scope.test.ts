import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Grant } from "../../src/core/grants.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { runMigrations } from "../../src/warehouse/migrate.js";
import { readRecordedGrants, renderStateStatements } from "../../src/warehouse/state-store.js";
import { readRecordedScope } from "../../src/warehouse/state-scope.js";
import { createPgliteExecutor } from "../../src/warehouse/postgres-executor.js";
import { grant } from "../support/catalog-builders.js";


describe("readRecordedScope", () => {
  let executor: SqlExecutor;
  beforeEach(async () => {
    executor = await createPgliteExecutor({});
  });
  afterEach(async () => {
    await executor.close();
  });

  it("reads nothing (and counts nothing) before the first migration", async () => {
    expect(await readRecordedScope(executor, "lfsync", { schemas: ["s"], tables: [] })).toEqual({ grants: [], total: 0 });
  });

  it("returns exactly the rows of the scope's objects, as the full read returns them, and counts every slot", async () => {
    await runMigrations(executor, "lfsync");
    const grants: Grant[] = [
      grant("a", "USAGE", "s"),
      grant("a", "USAGE", "other"),
      grant("a", "SELECT", "s.t1"),
      grant("b", "SELECT", "s.t1(x,y)"),
      grant("a", "SELECT", "s.t2"),
      grant("a", "SELECT", "other.t1"),
    ];
    await executor.transaction(renderStateStatements("postgres", "lfsync", grants.map((g) => ({ op: "record", grant: g, because: ["policy#0"] })), "run-1"));
    const scoped = await readRecordedScope(executor, "lfsync", { schemas: ["s"], tables: [{ schema: "s", table: "t1" }] });
    const all = await readRecordedGrants(executor, "lfsync");
    const inScope = (g: Grant) => (g.object.table === null ? g.object.schema === "s" : g.object.schema === "s" && g.object.table === "t1");
    expect(scoped.grants).toEqual(all.filter(inScope));
    expect(scoped.grants).toHaveLength(3);
    expect(scoped.total).toBe(6);
  });
});
