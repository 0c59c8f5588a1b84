import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogSnapshot } from "../../src/catalog/model.js";
import type { Grant, RecordedGrant } from "../../src/core/grants.js";
import { byteLength } from "../../src/core/sql.js";
import { runMigrations } from "../../src/target/migrate.js";
import type { PostgresExecutor } from "../../src/target/postgres-executor.js";
import {
  getRun,
  grantRowKey,
  lastCatalogHash,
  listRuns,
  readRecordedGrants,
  recordRunEnd,
  recordRunStart,
  renderStateStatements,
  renderTagAssignmentStatements,
  type StateRowChange,
} from "../../src/target/state-store.js";
import { executorBackends } from "../support/postgres.js";

const HOSTILE = 'we"ird; DROP TABLE x; --';
const AT = new Date("2026-11-23T19:00:00.000Z");

const tableGrant: Grant = { grantee: { kind: "group", name: "analyst" }, privilege: "SELECT", object: { schema: "sales", table: "orders", columns: null } };
const schemaGrant: Grant = { grantee: { kind: "group", name: "analyst" }, privilege: "USAGE", object: { schema: "sales", table: null, columns: null } };
const columnGrant: Grant = {
  grantee: { kind: "role", name: HOSTILE },
  privilege: "SELECT",
  object: { schema: "dönnées", table: HOSTILE, columns: ["a'b\\c", HOSTILE, "ünï"] },
};
const BECAUSE = ["policy#3 Access in (public) AND PII in ('false')", "back\\slash"];

const record = (grant: Grant, because = BECAUSE): StateRowChange => ({ op: "record", grant, because });
const forget = (grant: Grant): StateRowChange => ({ op: "forget", grant, because: [] });
const recorded = (grant: Grant, runId: string, because = BECAUSE): RecordedGrant => ({ ...grant, because, runId });
const withColumns = (grant: Grant, columns: string[]): Grant => ({ ...grant, object: { ...grant.object, columns } });

describe("grantRowKey", () => {
  it("is the JSON of kind, name, schema, table, column and privilege", () => {
    expect(grantRowKey(tableGrant, null)).toBe('["group","analyst","sales","orders",null,"SELECT"]');
    expect(grantRowKey(columnGrant, "x")).toBe(JSON.stringify(["role", HOSTILE, "dönnées", HOSTILE, "x", "SELECT"]));
  });
});

describe("renderStateStatements", () => {
  it("deletes every touched row, then inserts the recorded ones (Redshift literals)", () => {
    expect(renderStateStatements("redshift", "lfsync", [record(tableGrant, ["p'1"]), forget(schemaGrant)], "run-1", AT)).toEqual([
      `DELETE FROM "lfsync".grants WHERE grant_key IN ('["group","analyst","sales","orders",null,"SELECT"]', '["group","analyst","sales",null,null,"USAGE"]')`,
      `INSERT INTO "lfsync".grants (grant_key, grantee_kind, grantee, schema_name, table_name, column_name, privilege, because, run_id, granted_at) VALUES ` +
        `('["group","analyst","sales","orders",null,"SELECT"]', 'group', 'analyst', 'sales', 'orders', NULL, 'SELECT', '["p''1"]', 'run-1', '2026-11-23 19:00:00.000'::TIMESTAMP)`,
    ]);
  });

  it("skips the DELETE for a fresh record (nothing recorded for its slot when planned), not for a forget", () => {
    const statements = renderStateStatements("redshift", "lfsync", [{ ...record(tableGrant), fresh: true }, { op: "forget", grant: columnGrant, because: [] }], "run-1", AT);
    const deletes = statements.filter((s) => s.startsWith("DELETE"));
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).not.toContain('"orders"');
    expect(deletes[0]).toContain("dönnées");
    expect(statements.filter((s) => s.startsWith("INSERT"))).toHaveLength(1);
  });

  it("keeps every statement within the byte bound, counting UTF-8 bytes", () => {
    const changes = Array.from({ length: 300 }, (_, i) => record(withColumns(columnGrant, [`ünïcødé_${i}`, `☃_${i}`])));
    const statements = renderStateStatements("postgres", "lfsync", changes, "run-1", AT, 4000);
    expect(statements.length).toBeGreaterThan(10);
    for (const statement of statements) expect(byteLength(statement)).toBeLessThanOrEqual(4000);
    const inserted = statements.filter((s) => s.startsWith("INSERT")).join("").match(/'run-1'/g) ?? [];
    expect(inserted).toHaveLength(600);
  });

  it("refuses a row that cannot fit in one statement", () => {
    expect(() => renderStateStatements("postgres", "lfsync", [record(tableGrant)], "run-1", AT, 200)).toThrow(/does not fit/);
  });

  it("cuts an explanation longer than the column to what fits, saying how many were left out", () => {
    const long = Array.from({ length: 2000 }, (_, i) => `policy#${i} ${"x".repeat(60)}`);
    const [, insert] = renderStateStatements("redshift", "lfsync", [record(tableGrant, long)], "run-1", AT);
    expect(insert).toMatch(/\.\.\. and \d+ more/);
    expect(byteLength(insert ?? "")).toBeLessThan(70_000);
  });
});

describe.each(executorBackends())("state store on $name", (backend) => {
  let executor: PostgresExecutor;
  beforeAll(async () => {
    executor = await backend.open();
  });
  afterAll(async () => {
    await executor.close();
  });

  const apply = async (statements: readonly string[]): Promise<void> => executor.transaction(statements);

  it("reads nothing before the first migration", async () => {
    expect(await readRecordedGrants(executor, "fresh")).toEqual([]);
    expect(await listRuns(executor, "fresh", 10)).toEqual([]);
    expect(await getRun(executor, "fresh", "r")).toBeNull();
    expect(await lastCatalogHash(executor, "fresh")).toBeNull();
  });

  it("records and forgets table, column and schema grants with hostile names", async () => {
    await runMigrations(executor, "s1");
    await apply(renderStateStatements("postgres", "s1", [record(tableGrant), record(columnGrant), record(schemaGrant)], "run-1", AT));
    // Sorted by slot: the schema-level grant before the same grantee's table grants.
    expect(await readRecordedGrants(executor, "s1")).toEqual([
      recorded(schemaGrant, "run-1"),
      recorded(tableGrant, "run-1"),
      recorded(columnGrant, "run-1"),
    ]);
    const [row] = await executor.query(`SELECT granted_at, because FROM s1.grants WHERE column_name = E'a''b\\\\c'`);
    expect(row).toEqual({ granted_at: AT.toISOString(), because: JSON.stringify(BECAUSE) });

    // The column subset narrows by one and widens by one; the table grant is forgotten.
    await apply(
      renderStateStatements(
        "postgres",
        "s1",
        [forget(withColumns(columnGrant, [HOSTILE])), record(withColumns(columnGrant, ["new"]), ["p2"]), forget(tableGrant)],
        "run-2",
        new Date("2026-11-24T00:00:00Z"),
      ),
    );
    const after = await readRecordedGrants(executor, "s1");
    expect(after).toHaveLength(2);
    expect(after).toContainEqual(recorded(schemaGrant, "run-1"));
    expect(after).toContainEqual(recorded(withColumns(columnGrant, ["a'b\\c", "new", "ünï"]), "run-2", [...BECAUSE, "p2"]));
    expect(await executor.query("SELECT count(*) AS n FROM s1.grants")).toEqual([{ n: "4" }]);
  });

  it("lets the later of two changes to one row win, and re-recording replaces the row", async () => {
    await runMigrations(executor, "s2");
    await apply(renderStateStatements("postgres", "s2", [record(tableGrant), forget(tableGrant), forget(schemaGrant), record(schemaGrant)], "run-1", AT));
    expect(await readRecordedGrants(executor, "s2")).toEqual([recorded(schemaGrant, "run-1")]);
    await apply(renderStateStatements("postgres", "s2", [record(schemaGrant, ["again"])], "run-2", AT));
    expect(await readRecordedGrants(executor, "s2")).toEqual([recorded(schemaGrant, "run-2", ["again"])]);
  });

  it("returns a slot with both table-level and column rows as two grants", async () => {
    await runMigrations(executor, "s3");
    await apply(renderStateStatements("postgres", "s3", [record(tableGrant), record(withColumns(tableGrant, ["id"]))], "run-1", AT));
    expect(await readRecordedGrants(executor, "s3")).toEqual([recorded(tableGrant, "run-1"), recorded(withColumns(tableGrant, ["id"]), "run-1")]);
  });

  it("applies bounded statements completely", async () => {
    await runMigrations(executor, "s4");
    const grants = Array.from({ length: 150 }, (_, i) => withColumns({ ...columnGrant, object: { ...columnGrant.object, table: `t☃${i}` } }, ["a", `ü${i}`]));
    const statements = renderStateStatements("postgres", "s4", grants.map((g) => record(g)), "run-1", AT, 3000);
    expect(statements.length).toBeGreaterThan(5);
    await apply(statements);
    const read = await readRecordedGrants(executor, "s4");
    expect(read).toHaveLength(150);
    expect(read.find((g) => g.object.table === "t☃7")?.object.columns).toEqual(["a", "ü7"]);
    await apply(renderStateStatements("postgres", "s4", grants.map(forget), "run-2", AT, 3000));
    expect(await readRecordedGrants(executor, "s4")).toEqual([]);
  });

  it("keeps a run log, newest first, and the catalog hash of the last succeeded run", async () => {
    await runMigrations(executor, "s5");
    await recordRunStart(executor, "s5", { runId: "r1", command: "apply", startedAt: new Date("2026-11-23T10:00:00Z"), fencingToken: 7 });
    await recordRunEnd(executor, "s5", {
      runId: "r1", status: "succeeded", finishedAt: new Date("2026-11-23T10:01:00Z"),
      grants: 3, revokes: 1, pending: 2, batchesApplied: 1, batchesTotal: 1, catalogHash: "hash-1", message: null,
    });
    await recordRunStart(executor, "s5", { runId: "r2", command: "reconcile", startedAt: new Date("2026-11-23T11:00:00Z"), fencingToken: null });
    expect(await lastCatalogHash(executor, "s5")).toBe("hash-1");
    const hostile = `it's ${HOSTILE} \\ ${"é".repeat(3000)}`;
    await recordRunEnd(executor, "s5", {
      runId: "r2", status: "failed", finishedAt: new Date("2026-11-23T11:00:30Z"),
      grants: 0, revokes: 0, pending: 0, batchesApplied: 0, batchesTotal: 2, catalogHash: null, message: hostile,
    });
    await recordRunStart(executor, "s5", { runId: "r3", command: "apply", startedAt: new Date("2026-11-23T12:00:00Z"), fencingToken: 9 });

    const runs = await listRuns(executor, "s5", 10);
    expect(runs.map((r) => [r.runId, r.status])).toEqual([["r3", "running"], ["r2", "failed"], ["r1", "succeeded"]]);
    expect(await listRuns(executor, "s5", 1)).toHaveLength(1);
    expect(await getRun(executor, "s5", "r1")).toEqual({
      runId: "r1", command: "apply", status: "succeeded", startedAt: "2026-11-23T10:00:00.000Z", finishedAt: "2026-11-23T10:01:00.000Z",
      fencingToken: 7, catalogHash: "hash-1", grants: 3, revokes: 1, pending: 2, batchesApplied: 1, batchesTotal: 1, message: null,
    });
    const failed = await getRun(executor, "s5", "r2");
    expect(failed?.message?.startsWith(`it's ${HOSTILE} \\ é`)).toBe(true);
    expect(byteLength(failed?.message ?? "")).toBeLessThanOrEqual(4096);
    expect(await getRun(executor, "s5", "nope")).toBeNull();
    expect(await lastCatalogHash(executor, "s5")).toBe("hash-1");
  });

  it("replaces the tag assignments with the snapshot's assigned tags", async () => {
    await runMigrations(executor, "s6");
    const snapshot: CatalogSnapshot = {
      tags: { access: ["public", "internal"], pii: ["true", "false"] },
      expressions: {},
      policies: [],
      databases: [
        {
          name: "sales",
          tags: { access: "internal" },
          tables: [
            {
              name: HOSTILE,
              tags: { pii: "false", access: "public" },
              columns: [{ name: "émail", tags: { pii: "true" } }, { name: "id", tags: {} }],
            },
          ],
        },
        { name: "empty", tags: {}, tables: [] },
      ],
    };
    const statements = renderTagAssignmentStatements("postgres", "s6", snapshot, "run-1", AT, 400);
    for (const statement of statements) expect(byteLength(statement)).toBeLessThanOrEqual(400);
    await apply(statements);
    await apply(renderTagAssignmentStatements("postgres", "s6", snapshot, "run-2", AT));
    const rows = await executor.query(
      "SELECT resource_kind, database_name, table_name, column_name, tag_key, tag_value, run_id FROM s6.tag_assignments ORDER BY resource_kind, tag_key",
    );
    expect(rows).toEqual([
      { resource_kind: "column", database_name: "sales", table_name: HOSTILE, column_name: "émail", tag_key: "pii", tag_value: "true", run_id: "run-2" },
      { resource_kind: "database", database_name: "sales", table_name: null, column_name: null, tag_key: "access", tag_value: "internal", run_id: "run-2" },
      { resource_kind: "table", database_name: "sales", table_name: HOSTILE, column_name: null, tag_key: "access", tag_value: "public", run_id: "run-2" },
      { resource_kind: "table", database_name: "sales", table_name: HOSTILE, column_name: null, tag_key: "pii", tag_value: "false", run_id: "run-2" },
    ]);
  });
});
