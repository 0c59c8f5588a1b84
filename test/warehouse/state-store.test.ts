import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogSnapshot } from "../../src/catalog/model.js";
import { compareStrings, grantSlotKey, granteeKey, tableKey, type Grant, type RecordedGrant } from "../../src/core/grants.js";
import { GrantColumns, GrantRegistry } from "../../src/core/grant-columns.js";
import { planChanges } from "../../src/core/plan.js";
import { byteLength } from "../../src/core/sql.js";
import { runMigrations } from "../../src/warehouse/migrate.js";
import type { PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import {
  currentFence,
  fencedOut,
  fenceStatement,
  getRun,
  lastCatalogHash,
  listRuns,
  readGrantSlotRows,
  readRecordedGrants,
  recordedColumnsOf,
  recordedGrantsOf,
  recordFailedRun,
  recordRunEnd,
  recordRunStart,
  renderStateStatements,
  renderTagAssignmentStatements,
  type StateRowChange,
} from "../../src/warehouse/state-store.js";
import { tableToken } from "../../src/warehouse/state/table-lists.js";
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

const INSERT = `INSERT INTO "lfsync".grant_slots (grantee_kind, grantee, schema_name, privilege, columns, policies, tables, part, row_key, run_ref) VALUES `;
const ANALYST_SELECT = "grantee_kind = 'group' AND grantee = 'analyst' AND schema_name = 'sales' AND privilege = 'SELECT'";
/** The VALUES of an INSERT with their row keys (hashes) blanked. */
const valuesOf = (statement: string | undefined): string => (statement ?? "").slice(INSERT.length).replaceAll(/'[0-9a-f]{12}'/g, "KEY");

describe("renderStateStatements", () => {
  it("cuts the touched tables out of their rows, drops emptied rows and forgotten schema rows, then inserts a row per group (Redshift literals)", () => {
    const other = { ...tableGrant, object: { ...tableGrant.object, table: 'x"y' } };
    const statements = renderStateStatements("redshift", "lfsync", [record(tableGrant, ["p'1"]), forget(schemaGrant), forget(other)], "run-1");
    expect(statements.slice(0, 2)).toEqual([
      `UPDATE "lfsync".grant_slots SET tables = CASE WHEN ${ANALYST_SELECT} AND columns IS NULL THEN REPLACE(REPLACE(tables, '"orders"', ''), '"x\\\\u0022y"', '') ELSE tables END ` +
        `WHERE (${ANALYST_SELECT} AND columns IS NULL AND (POSITION('"orders"' IN tables) > 0 OR POSITION('"x\\\\u0022y"' IN tables) > 0))`,
      `DELETE FROM "lfsync".grant_slots WHERE tables = '' OR (grantee_kind = 'group' AND grantee = 'analyst' AND schema_name = 'sales' AND privilege = 'USAGE' AND tables IS NULL)`,
    ]);
    expect(valuesOf(statements[2])).toBe(`('group', 'analyst', 'sales', 'SELECT', NULL, '["p''1"]', '"orders"', 0, KEY, 'run-1')`);
    expect(statements).toHaveLength(3);
  });

  it("lists the tables of one grantee, schema, privilege, form and policy list in one row", () => {
    const grants = ["a", "b", "c"].map((table) => ({ ...tableGrant, object: { ...tableGrant.object, table } }));
    const statements = renderStateStatements("redshift", "lfsync", [...grants.map((g) => ({ ...record(g, ["p"]), fresh: true })), { ...record(withColumns(tableGrant, ["x", "y"]), ["p"]), fresh: true }], "5f0c9a4e-1b2d-4c3e-8f70-9a1b2c3d4e5f");
    expect(statements).toHaveLength(1);
    expect(valuesOf(statements[0])).toBe(
      `('group', 'analyst', 'sales', 'SELECT', NULL, '["p"]', '"a""b""c"', 0, KEY, '5f0c9a4e'), ('group', 'analyst', 'sales', 'SELECT', '["x","y"]', '["p"]', '"orders"', 0, KEY, '5f0c9a4e')`,
    );
  });

  it("writes a column subset as a row holding the list, after cutting the table out of the column rows only", () => {
    const statements = renderStateStatements("redshift", "lfsync", [forget(withColumns(tableGrant, ["c"])), record(withColumns(tableGrant, ["a", "b"]), ["p"])], "run-1");
    expect(statements[0]).toBe(
      `UPDATE "lfsync".grant_slots SET tables = CASE WHEN ${ANALYST_SELECT} AND columns IS NOT NULL THEN REPLACE(tables, '"orders"', '') ELSE tables END WHERE (${ANALYST_SELECT} AND columns IS NOT NULL AND (POSITION('"orders"' IN tables) > 0))`,
    );
    expect(statements[1]).toBe(`DELETE FROM "lfsync".grant_slots WHERE tables = ''`);
    expect(valuesOf(statements[2])).toBe(`('group', 'analyst', 'sales', 'SELECT', '["a","b"]', '["p"]', '"orders"', 0, KEY, 'run-1')`);
  });

  it("cuts a slot out of both forms when the batch touches both, each form in its own CASE branch", () => {
    const [update] = renderStateStatements("postgres", "lfsync", [forget(tableGrant), record(withColumns(tableGrant, ["a"]))], "run-1");
    expect(update).toContain("columns IS NULL THEN REPLACE(tables, E'\"orders\"', '')");
    expect(update).toContain("columns IS NOT NULL THEN REPLACE(tables, E'\"orders\"', '')");
  });

  it("skips the rewrite for a fresh record (nothing recorded for its slot when planned), not for a forget", () => {
    const statements = renderStateStatements("redshift", "lfsync", [{ ...record(tableGrant), fresh: true }, { op: "forget", grant: columnGrant, because: [] }], "run-1");
    const updates = statements.filter((s) => s.startsWith("UPDATE"));
    expect(updates).toHaveLength(1);
    expect(updates[0]).not.toContain("orders");
    expect(updates[0]).toContain("dönnées");
    expect(statements.filter((s) => s.startsWith("INSERT"))).toEqual([expect.stringContaining(`'"orders"'`)]);
  });

  it("forgets the whole column form when some columns are forgotten and none recorded (StateRowChange)", () => {
    const statements = renderStateStatements("postgres", "lfsync", [forget(withColumns(columnGrant, [HOSTILE]))], "run-1");
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/^UPDATE "lfsync".grant_slots SET .* AND columns IS NOT NULL AND \(POSITION\(.*\)\)$/);
    expect(statements[1]).toBe(`DELETE FROM "lfsync".grant_slots WHERE tables = ''`);
  });

  it("cuts many tables of one row key over several UPDATEs, never two branches of one key in one UPDATE", () => {
    const forgets = Array.from({ length: 250 }, (_, i) => forget({ ...tableGrant, object: { ...tableGrant.object, table: `t${i}` } }));
    const updates = renderStateStatements("redshift", "lfsync", forgets, "run-1").filter((s) => s.startsWith("UPDATE"));
    expect(updates).toHaveLength(3);
    for (const update of updates) expect(update.match(/ WHEN /g)).toHaveLength(1);
    expect(updates.join("").match(/REPLACE\(/g)).toHaveLength(250);
  });

  it("keeps every statement within the byte bound, counting UTF-8 bytes", () => {
    const changes = Array.from({ length: 300 }, (_, i) => record(withColumns({ ...columnGrant, object: { ...columnGrant.object, table: `t${i}` } }, [`ünïcødé_${i}`, `☃_${i}`])));
    const statements = renderStateStatements("postgres", "lfsync", changes, "run-1", 4000);
    expect(statements.length).toBeGreaterThan(10);
    for (const statement of statements) expect(byteLength(statement)).toBeLessThanOrEqual(4000);
    const inserted = statements.filter((s) => s.startsWith("INSERT")).join("").match(/"t\d+"/g) ?? [];
    expect(inserted).toHaveLength(300);
  });

  it("splits a column list too long for one row over rows of the same slot, each statement within 100 KB", () => {
    // Redshift's widest table: 1600 columns of 127 bytes (here 2-byte characters, quotes and backslashes).
    const columns = Array.from({ length: 1600 }, (_, i) => `${String(i).padStart(4, "0")}'\\"${"é".repeat(60)}`);
    const statements = renderStateStatements("redshift", "lfsync", [forget(tableGrant), record(withColumns(tableGrant, columns))], "run-1");
    for (const statement of statements) expect(byteLength(statement)).toBeLessThanOrEqual(100_000);
    const rows = statements.filter((s) => s.startsWith("INSERT")).join("").match(/'run-1'/g) ?? [];
    expect(rows.length).toBeGreaterThan(6);
  });

  it("refuses a row that cannot fit in one statement", () => {
    expect(() => renderStateStatements("postgres", "lfsync", [record(tableGrant)], "run-1", 200)).toThrow(/does not fit/);
  });

  it("cuts an explanation longer than 4 KB to what fits, saying how many were left out", () => {
    const long = Array.from({ length: 2000 }, (_, i) => `policy#${i} ${"x".repeat(60)}`);
    const [insert] = renderStateStatements("redshift", "lfsync", [{ ...record(tableGrant, long), fresh: true }], "run-1");
    expect(insert).toMatch(/\.\.\. and \d+ more/);
    expect(byteLength(insert ?? "")).toBeLessThan(5_000);
  });
});

describe("recordedGrantsOf", () => {
  // Names that order differently by code unit, by length and by case; a surrogate pair; quotes,
  // backslashes and a name that is another's token with a quote inside; a hostile name.
  const NAMES = ["a", "ab", "B", "a b", "é", "😀", "\uFFFF", 'a"', '"a', "\\u0022", HOSTILE];
  // Each case draws its names from a few of NAMES, so that rows often share a slot.
  const rowArb = (names: readonly string[]) =>
    fc.record({
      kind: fc.constantFrom("group", "role"),
      grantee: fc.constantFrom(...names),
      schema: fc.constantFrom(...names),
      tables: fc.option(fc.uniqueArray(fc.constantFrom(...names), { minLength: 1 }), { nil: null }),
      privilege: fc.constantFrom("SELECT", "INSERT", "USAGE", "DELETE"),
      columns: fc.option(fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1 }), { nil: null }),
      split: fc.boolean(),
      policies: fc.constantFrom('["p1"]', '["p2","p1"]', null),
      run: fc.constantFrom("run-a", "run-b", "run-c"),
    });
  type RowSpec = ReturnType<typeof rowArb> extends fc.Arbitrary<infer T> ? T : never;
  /** A row of grant_slots, or its column list split over rows (one part per column). */
  const rowsOf = (r: RowSpec): Record<string, string | number | null>[] => {
    const tables = r.tables === null ? null : r.tables.map(tableToken).join("");
    const base = { grantee_kind: r.kind, grantee: r.grantee, schema_name: r.schema, privilege: r.privilege, policies: r.policies, tables, row_key: "k", run_ref: r.run };
    if (!r.split || r.columns === null) return [{ ...base, part: 0, columns: r.columns === null ? null : JSON.stringify(r.columns) }];
    return r.columns.map((column, part) => ({ ...base, part, columns: JSON.stringify([column]) }));
  };
  /** The old meaning: one slot per table a row lists (the schema when none), with the row's columns, policies and run. */
  const slotsOf = (r: RowSpec) =>
    (r.tables ?? [null]).map((table) => ({
      grant: { grantee: { kind: r.kind, name: r.grantee }, privilege: r.privilege, object: { schema: r.schema, table, columns: r.columns } } as Grant,
      policies: JSON.parse(r.policies ?? "[]") as string[],
      run: r.run,
    }));
  const formKey = (g: Grant): string => `${grantSlotKey(g)}${g.object.columns === null ? "" : "\u0001"}`;
  const sortedByForm = <T extends Grant & { readonly because: readonly string[] }>(grants: readonly T[]) =>
    [...grants].sort((a, b) => compareStrings(formKey(a), formKey(b))).map((g) => ({ ...g }));

  it("expands every row into the slots it lists: one grant per slot form, sorted as grantSlotKey orders them, merging columns, policies and greatest run", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 }).chain((names) => fc.array(rowArb(names), { maxLength: 30 })), (generated) => {
        const read = recordedGrantsOf(generated.flatMap(rowsOf));
        const slots = generated.flatMap(slotsOf);
        expect(read.map(formKey)).toEqual([...new Set(slots.map((slot) => formKey(slot.grant)))].sort(compareStrings));
        for (const grant of read) {
          const own = slots.filter((slot) => formKey(slot.grant) === formKey(grant));
          const columns = own.flatMap((slot) => slot.grant.object.columns ?? []);
          expect(grant.object.columns).toEqual(grant.object.columns === null ? null : [...new Set(columns)].sort(compareStrings));
          expect(new Set(grant.because)).toEqual(new Set(own.flatMap((slot) => slot.policies)));
          expect(grant.runId).toBe(own.map((slot) => slot.run).sort().pop());
        }
      }),
    );
  });

  it("reads the same grants as the planner's columns over a registry that already holds other grants (the desired ones)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 }).chain((names) => fc.array(rowArb(names), { maxLength: 30 })), (generated) => {
        const rows = generated.flatMap(rowsOf);
        const registry = new GrantRegistry();
        // Desired grants first, as a run interns them: the recorded ones must find the same ids by content.
        GrantColumns.from(generated.flatMap(slotsOf).map((slot) => ({ ...slot.grant, object: { ...slot.grant.object, columns: slot.grant.object.columns === null ? null : [...slot.grant.object.columns].sort(compareStrings) } })), registry);
        const columns = recordedColumnsOf(rows, registry);
        const asObjects = (c: GrantColumns) => Array.from({ length: c.length }, (_, i) => c.grantAt(i, registry));
        const withoutRun = ({ runId: _, ...grant }: RecordedGrant) => grant;
        const expected = recordedGrantsOf(rows).map(withoutRun);
        expect(sortedByForm(asObjects(columns))).toEqual(sortedByForm(expected));
      }),
    );
  });

  it("shares grantees, names and explanations between grants", () => {
    const rows = [{ grantee_kind: "group", grantee: "g", schema_name: "s", privilege: "SELECT", policies: '["p"]', tables: '"t1""t2"', row_key: "k", run_ref: "r", columns: null }];
    const [a, b] = recordedGrantsOf(rows);
    expect(a!.object.table).toBe("t1");
    expect(b!.object.table).toBe("t2");
    expect(a!.grantee).toBe(b!.grantee);
    expect(a!.because).toBe(b!.because);
  });

  it("refuses a row it cannot read", () => {
    const row = { grantee_kind: "user", grantee: "g", schema_name: "s", privilege: "USAGE", policies: null, tables: null, row_key: "k", run_ref: "r", columns: null };
    expect(() => recordedGrantsOf([row])).toThrow(/grantee kind "user"/);
    expect(() => recordedGrantsOf([{ ...row, grantee_kind: "group", grantee: null }])).toThrow(/grantee null/);
    expect(recordedGrantsOf([{ ...row, grantee_kind: "group", privilege: "SELECT", tables: "" }])).toEqual([]);
    for (const tables of ['"t1"x', '"t1', '"t1"""', '"a\\"']) {
      expect(() => recordedGrantsOf([{ ...row, grantee_kind: "group", privilege: "SELECT", tables }]), tables).toThrow(/tables/);
    }
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
  const count = async (table: string): Promise<number> => Number((await executor.query(`SELECT count(*) AS n FROM ${table}`))[0]?.n);

  it("reads nothing before the first migration", async () => {
    expect(await readRecordedGrants(executor, "fresh")).toEqual([]);
    expect(await listRuns(executor, "fresh", 10)).toEqual([]);
    expect(await getRun(executor, "fresh", "r")).toBeNull();
    expect(await lastCatalogHash(executor, "fresh")).toBeNull();
  });

  it("records and forgets table, column and schema grants with hostile names", async () => {
    await runMigrations(executor, "s1");
    await apply(renderStateStatements("postgres", "s1", [record(tableGrant), record(columnGrant), record(schemaGrant)], "run-1"));
    // Sorted by slot: the schema-level grant before the same grantee's table grants.
    expect(await readRecordedGrants(executor, "s1")).toEqual([
      recorded(schemaGrant, "run-1"),
      recorded(tableGrant, "run-1"),
      recorded(columnGrant, "run-1"),
    ]);
    expect(await count("s1.grant_slots")).toBe(3);
    const [row] = await executor.query(`SELECT run_ref, policies, columns, tables FROM s1.grant_slots WHERE grantee = E'${HOSTILE.replaceAll("'", "''")}'`);
    expect(row).toEqual({ run_ref: "run-1", policies: JSON.stringify(BECAUSE), columns: JSON.stringify(columnGrant.object.columns), tables: tableToken(HOSTILE) });

    // The column subset narrows by one and widens by one (the record lists every column it keeps); the table grant is forgotten.
    await apply(
      renderStateStatements(
        "postgres",
        "s1",
        [forget(withColumns(columnGrant, [HOSTILE])), record(withColumns(columnGrant, ["a'b\\c", "new", "ünï"]), ["p2"]), forget(tableGrant)],
        "run-2",
      ),
    );
    expect(await readRecordedGrants(executor, "s1")).toEqual([recorded(schemaGrant, "run-1"), recorded(withColumns(columnGrant, ["a'b\\c", "new", "ünï"]), "run-2", ["p2"])]);
    expect(await count("s1.grant_slots")).toBe(2);
  });

  it("lets the later of two changes to one slot form win, and re-recording replaces the row", async () => {
    await runMigrations(executor, "s2");
    await apply(renderStateStatements("postgres", "s2", [record(tableGrant), forget(tableGrant), forget(schemaGrant), record(schemaGrant)], "run-1"));
    expect(await readRecordedGrants(executor, "s2")).toEqual([recorded(schemaGrant, "run-1")]);
    await apply(renderStateStatements("postgres", "s2", [record(schemaGrant, ["again"])], "run-2"));
    expect(await readRecordedGrants(executor, "s2")).toEqual([recorded(schemaGrant, "run-2", ["again"])]);
    await apply(renderStateStatements("postgres", "s2", [record(withColumns(tableGrant, ["a", "b"])), forget(withColumns(tableGrant, ["a"]))], "run-3"));
    expect(await readRecordedGrants(executor, "s2")).toContainEqual(recorded(withColumns(tableGrant, ["b"]), "run-3"));
  });

  it("returns a slot with both table-level and column rows as two grants; a change to one form keeps the other", async () => {
    await runMigrations(executor, "s3");
    await apply(renderStateStatements("postgres", "s3", [record(tableGrant), record(withColumns(tableGrant, ["id"]))], "run-1"));
    expect(await readRecordedGrants(executor, "s3")).toEqual([recorded(tableGrant, "run-1"), recorded(withColumns(tableGrant, ["id"]), "run-1")]);
    await apply(renderStateStatements("postgres", "s3", [forget(withColumns(tableGrant, ["id"]))], "run-2"));
    expect(await readRecordedGrants(executor, "s3")).toEqual([recorded(tableGrant, "run-1")]);
    await apply(renderStateStatements("postgres", "s3", [record(withColumns(tableGrant, ["x"]))], "run-3"));
    await apply(renderStateStatements("postgres", "s3", [forget(tableGrant)], "run-4"));
    expect(await readRecordedGrants(executor, "s3")).toEqual([recorded(withColumns(tableGrant, ["x"]), "run-3")]);
  });

  it("applies bounded statements completely", async () => {
    await runMigrations(executor, "s4");
    const grants = Array.from({ length: 150 }, (_, i) => withColumns({ ...columnGrant, object: { ...columnGrant.object, table: `t☃${i}` } }, ["a", `ü${i}`]));
    const statements = renderStateStatements("postgres", "s4", grants.map((g) => record(g)), "run-1", 3000);
    expect(statements.length).toBeGreaterThan(5);
    await apply(statements);
    const read = await readRecordedGrants(executor, "s4");
    expect(read).toHaveLength(150);
    expect(read.find((g) => g.object.table === "t☃7")?.object.columns).toEqual(["a", "ü7"]);
    await apply(renderStateStatements("postgres", "s4", grants.map(forget), "run-2", 3000));
    expect(await readRecordedGrants(executor, "s4")).toEqual([]);
  });

  it("merges the rows of a split column list, and rewrites them all", async () => {
    await runMigrations(executor, "s7");
    const columns = Array.from({ length: 1600 }, (_, i) => `${String(i).padStart(4, "0")}'\\"${"é".repeat(60)}`);
    await apply(renderStateStatements("postgres", "s7", [record(withColumns(tableGrant, columns)), record(schemaGrant)], "run-1"));
    expect(await count("s7.grant_slots")).toBeGreaterThan(7);
    expect(await readRecordedGrants(executor, "s7")).toEqual([recorded(schemaGrant, "run-1"), recorded(withColumns(tableGrant, columns), "run-1")]);
    await apply(renderStateStatements("postgres", "s7", [forget(withColumns(tableGrant, columns.slice(2))), record(withColumns(tableGrant, columns.slice(0, 2)))], "run-2"));
    expect(await readRecordedGrants(executor, "s7")).toEqual([recorded(schemaGrant, "run-1"), recorded(withColumns(tableGrant, columns.slice(0, 2)), "run-2")]);
    expect(await count("s7.grant_slots")).toBe(2);
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
      fencingToken: 7, catalogHash: "hash-1", grants: 3, revokes: 1, pending: 2, batchesApplied: 1, batchesTotal: 1, errorCode: null, message: null,
    });
    const failed = await getRun(executor, "s5", "r2");
    expect(failed?.message?.startsWith(`it's ${HOSTILE} \\ é`)).toBe(true);
    expect(byteLength(failed?.message ?? "")).toBeLessThanOrEqual(4096);
    expect(await getRun(executor, "s5", "nope")).toBeNull();
    expect(await lastCatalogHash(executor, "s5")).toBe("hash-1");
  });

  it("records a failed run with its error code, whether it started or failed before it could", async () => {
    await runMigrations(executor, "s8");
    await recordFailedRun(executor, "s8", {
      runId: "busy", command: "reconcile", startedAt: new Date("2026-11-23T10:00:00Z"), finishedAt: new Date("2026-11-23T10:00:01Z"),
      fencingToken: null, errorCode: "LEASE_HELD", message: "held by someone",
    });
    await recordRunStart(executor, "s8", { runId: "src", command: "webhook", startedAt: new Date("2026-11-23T11:00:00Z"), fencingToken: 3 });
    await recordRunEnd(executor, "s8", {
      runId: "src", status: "failed", finishedAt: new Date("2026-11-23T11:00:05Z"),
      grants: 0, revokes: 0, pending: 0, batchesApplied: 0, batchesTotal: 0, catalogHash: null, errorCode: "SOURCE_INCOMPLETE", message: "AccessDenied",
    });
    expect((await listRuns(executor, "s8", 10)).map((r) => [r.runId, r.status, r.errorCode, r.message, r.finishedAt])).toEqual([
      ["src", "failed", "SOURCE_INCOMPLETE", "AccessDenied", "2026-11-23T11:00:05.000Z"],
      ["busy", "failed", "LEASE_HELD", "held by someone", "2026-11-23T10:00:01.000Z"],
    ]);
  });

  it("reads grant_slots in pages by row key whatever the page size, and a key with more rows than a page whole", async () => {
    await runMigrations(executor, "s9");
    const grantees = Array.from({ length: 7 }, (_, i) => ({ kind: "group" as const, name: `g${i}` }));
    const grants: Grant[] = [];
    for (const schema of ["a", "b"]) {
      for (const grantee of grantees) {
        grants.push({ grantee, privilege: "USAGE", object: { schema, table: null, columns: null } });
        for (const table of ["t1", "t2", "t3"]) grants.push({ grantee, privilege: "SELECT", object: { schema, table, columns: table === "t3" ? ["x"] : null } });
      }
    }
    await apply(renderStateStatements("postgres", "s9", grants.map((g) => record(g)), "run-1"));
    // The same rows again (a key shared by three rows): ties of the keyset.
    const again = renderStateStatements("postgres", "s9", [{ ...record(grants[1]!), fresh: true }], "run-1");
    await apply([...again, ...again]);
    const whole = await readGrantSlotRows(executor, "s9", 1_000_000);
    // Per schema and grantee: USAGE, SELECT on t1 and t2 in one row, SELECT (x) on t3; plus the two copies.
    expect(whole).toHaveLength(2 * 7 * 3 + 2);
    const sortRows = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).sort();
    for (const pageRows of [1, 2, 3, 5, 7, 8, 13, 44]) {
      expect(sortRows(await readGrantSlotRows(executor, "s9", pageRows)), `page of ${pageRows}`).toEqual(sortRows(whole));
    }
    expect(await readRecordedGrants(executor, "s9", 2)).toEqual(await readRecordedGrants(executor, "s9"));
    expect(await readRecordedGrants(executor, "s9")).toHaveLength(grants.length);
  });

  it("fences a stale lease holder's batch inside its transaction", async () => {
    await runMigrations(executor, "f1");
    const batch = (token: number, table: string): string[] => [fenceStatement("f1", token), ...renderStateStatements("postgres", "f1", [record({ ...tableGrant, object: { ...tableGrant.object, table } })], `run-${token}`)];
    await apply(batch(4, "first"));
    await apply(batch(5, "newer"));
    await apply(batch(5, "same holder again"));
    await expect(apply(batch(4, "stale"))).rejects.toThrow(/fencing_token/);
    expect((await readRecordedGrants(executor, "f1")).map((g) => g.object.table).sort()).toEqual(["first", "newer", "same holder again"]);
    expect(await currentFence(executor, "f1")).toBe(5);
    expect(await fencedOut(executor, "f1", 4)).toMatchObject({ code: "LEASE_LOST", message: expect.stringContaining("fencing token 5") });
    expect(await fencedOut(executor, "f1", 5)).toBeNull();
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

/**
 * Every kind of step the planner emits for one column-capable slot, applied through the state store
 * to the recorded state: what is recorded afterwards is what the target holds.
 */
// PGlite only: the statements are the ones the other tests run on both backends.
describe.each(executorBackends().slice(0, 1))("planner steps through the state store on $name", (backend) => {
  const slot = (columns: readonly string[] | null): Grant => ({ grantee: { kind: "group", name: "analyst" }, privilege: "SELECT", object: { schema: "sales", table: "orders", columns } });
  const inventory = (held: readonly (readonly string[] | null)[]) => ({
    schemas: new Set(["sales"]),
    tables: new Map([[tableKey("sales", "orders"), new Set(["a", "b", "c", "d"])]]),
    grantees: new Set([granteeKey({ kind: "group", name: "analyst" })]),
    held: held.map(slot),
  });
  type Form = readonly string[] | null;
  // recorded and held before, desired (undefined: no policy), recorded after.
  const cases: { name: string; recorded: Form[]; held: Form[]; desired: Form | undefined; after: Form[] }[] = [
    { name: "a first column grant", recorded: [], held: [], desired: ["a", "b"], after: [["a", "b"]] },
    { name: "columns widened", recorded: [["a", "b"]], held: [["a", "b"]], desired: ["a", "b", "c"], after: [["a", "b", "c"]] },
    { name: "columns narrowed and widened", recorded: [["a", "b", "c"]], held: [["a", "b", "c"]], desired: ["a", "b", "d"], after: [["a", "b", "d"]] },
    { name: "columns narrowed", recorded: [["a", "b", "c"]], held: [["a", "b", "c"]], desired: ["a", "b"], after: [["a", "b"]] },
    { name: "a column gone from the table", recorded: [["a", "gone"]], held: [["a"]], desired: ["a", "gone"], after: [["a"]] },
    { name: "a revoked column repaired", recorded: [["a", "b"]], held: [["a"]], desired: ["a", "b"], after: [["a", "b"]] },
    { name: "whole table to columns", recorded: [null], held: [null], desired: ["a", "b"], after: [["a", "b"]] },
    { name: "columns to whole table", recorded: [["a", "b"]], held: [["a", "b"]], desired: null, after: [null] },
    { name: "both forms recorded, whole table wanted", recorded: [null, ["a"]], held: [null], desired: null, after: [null] },
    { name: "both forms recorded, columns wanted", recorded: [null, ["a", "c"]], held: [null], desired: ["a", "b"], after: [["a", "b"]] },
    { name: "columns no longer allowed", recorded: [["a", "b"]], held: [["a", "b"]], desired: undefined, after: [] },
    { name: "whole table no longer allowed", recorded: [null], held: [null], desired: undefined, after: [] },
  ];
  let executor: PostgresExecutor;
  beforeAll(async () => {
    executor = await backend.open();
  });
  afterAll(async () => {
    await executor.close();
  });

  const rows = cases.map((c, i) => ({ ...c, schema: `rt${i}` }));
  it.each(rows)("$name", async ({ recorded: before, held, desired, after, schema }) => {
    await runMigrations(executor, schema);
    if (before.length > 0) await executor.transaction(renderStateStatements("postgres", schema, before.map((form) => record(slot(form), ["p0"])), "run-0"));
    const plan = planChanges({
      desired: desired === undefined ? [] : [{ ...slot(desired), because: ["p1"] }],
      recorded: await readRecordedGrants(executor, schema),
      inventory: inventory(held),
      dialect: "postgres",
      policyCount: 1,
      safety: { maxRevokes: 10, maxRevokeRatio: 1 },
      force: false,
      diagnostics: [],
    });
    const records = plan.steps.flatMap((step) => step.records);
    expect(records.length).toBeGreaterThan(0);
    await executor.transaction(renderStateStatements("postgres", schema, records, "run-1"));
    expect((await readRecordedGrants(executor, schema)).map((g) => g.object.columns)).toEqual(after);
  });
});
