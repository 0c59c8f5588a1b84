import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareStrings, type Grant, type Grantee, grantSlotKey, type Privilege, type RecordedGrant } from "../../src/core/grants.js";
import { byteLength } from "../../src/core/sql.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { runMigrations } from "../../src/warehouse/migrate.js";
import { readRecordedScope } from "../../src/warehouse/state-scope.js";
import { readRecordedGrants, renderStateStatements, type StateRowChange } from "../../src/warehouse/state-store.js";
import { targetBackends } from "../support/targets.js";

/**
 * grant_slots keeps groups of slots in rows (migrations/0001). Whatever the batches, what the state
 * store reads back is what the per-slot meaning of StateRowChange says: the model below keeps one
 * entry per slot form, as the state did when it had one row per slot.
 */

const GRANTEES: readonly Grantee[] = [
  { kind: "group", name: "analysts" },
  { kind: "role", name: 'we"ird; --' },
];
// A name inside another ("a" in "ab", in 'a"', in '"a'), quotes, a backslash, a 2-byte character.
const TABLES = ["a", "ab", 'a"', '"a', "b\\", "é'"];
const SCHEMAS = ["s", "ß"];
const COLUMNS = ["c1", "c2", "c3"];
const REASONS: readonly (readonly string[])[] = [["p1"], ["p2", "p1"]];

const formKey = (grant: Grant): string => `${grantSlotKey(grant)}${grant.object.columns === null ? "" : "\u0001"}`;
const sorted = (grants: readonly RecordedGrant[]): RecordedGrant[] => [...grants].sort((a, b) => compareStrings(formKey(a), formKey(b)));

/** The per-slot meaning of one batch (StateRowChange), applied to the recorded slot forms. */
function applyToModel(model: Map<string, RecordedGrant>, changes: readonly StateRowChange[], runId: string): void {
  const bySlot = new Map<string, StateRowChange[]>();
  for (const change of changes) bySlot.set(grantSlotKey(change.grant), [...(bySlot.get(grantSlotKey(change.grant)) ?? []), change]);
  for (const slotChanges of bySlot.values()) {
    const full = slotChanges.filter((c) => c.grant.object.columns === null);
    const columns = slotChanges.filter((c) => c.grant.object.columns !== null);
    const base = slotChanges[0]!.grant;
    if (full.length > 0) {
      const last = full[full.length - 1]!;
      const key = formKey({ ...base, object: { ...base.object, columns: null } });
      if (last.op === "record") model.set(key, { ...last.grant, because: last.because, runId });
      else model.delete(key);
    }
    if (columns.length > 0) {
      const kept = new Set<string>();
      let because: readonly string[] = [];
      for (const change of columns) {
        for (const column of change.grant.object.columns!) if (change.op === "record") kept.add(column); else kept.delete(column);
        if (change.op === "record") because = change.because;
      }
      const grant = { ...base, object: { ...base.object, columns: [...kept].sort(compareStrings) } };
      if (kept.size > 0) model.set(formKey(grant), { ...grant, because, runId });
      else model.delete(formKey(grant));
    }
  }
}

const changeArb = fc.record({
  op: fc.constantFrom("record", "record", "forget") as fc.Arbitrary<"record" | "forget">,
  grantee: fc.constantFrom(...GRANTEES),
  schema: fc.constantFrom(...SCHEMAS),
  table: fc.option(fc.constantFrom(...TABLES), { nil: null, freq: 6 }),
  privilege: fc.constantFrom<Privilege>("SELECT", "INSERT"),
  columns: fc.option(fc.uniqueArray(fc.constantFrom(...COLUMNS), { minLength: 1 }), { nil: null }),
  because: fc.constantFrom(...REASONS),
  fresh: fc.boolean(),
});
type ChangeSpec = typeof changeArb extends fc.Arbitrary<infer T> ? T : never;

/** A change as the planner makes them: `fresh` only for a slot with nothing recorded. */
function changeOf(spec: ChangeSpec, model: ReadonlyMap<string, RecordedGrant>): StateRowChange {
  const schemaLevel = spec.table === null;
  const grant: Grant = {
    grantee: spec.grantee,
    privilege: schemaLevel ? "USAGE" : spec.privilege,
    object: { schema: spec.schema, table: spec.table, columns: schemaLevel ? null : [...(spec.columns ?? [])].sort(compareStrings) },
  };
  const object = { ...grant.object, columns: schemaLevel || spec.columns === null ? null : grant.object.columns };
  const slot = grantSlotKey(grant);
  const recorded = [...model.values()].some((g) => grantSlotKey(g) === slot);
  return { op: spec.op, grant: { ...grant, object }, because: spec.because, ...(spec.fresh && !recorded ? { fresh: true } : {}) };
}

describe.each(targetBackends())("grouped state rows on $name", (backend) => {
  let executor: SqlExecutor;
  let schemas = 0;
  beforeAll(async () => {
    executor = await backend.open();
  });
  afterAll(async () => {
    await executor.close();
  });
  const freshSchema = async (): Promise<string> => {
    const schema = `g${++schemas}`;
    await runMigrations(executor, schema);
    return schema;
  };
  const rowsOf = async (schema: string) =>
    executor.query(`SELECT grantee, privilege, columns, tables, part, run_ref FROM ${schema}.grant_slots ORDER BY grantee, privilege, tables, part`);

  it("reads back, batch after batch, what the per-slot meaning of the changes records (rows grouped, split and rewritten)", async () => {
    const runs = backend.name === "Data API endpoint" ? 6 : 30;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(changeArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }), fc.constantFrom(100_000, 2_000), async (batches, maxBytes) => {
        const schema = await freshSchema();
        const model = new Map<string, RecordedGrant>();
        for (const [i, specs] of batches.entries()) {
          const changes = specs.map((spec) => changeOf(spec, model));
          const statements = renderStateStatements(executor.dialect, schema, changes, `run-${i}`, maxBytes);
          for (const statement of statements) expect(byteLength(statement)).toBeLessThanOrEqual(maxBytes);
          await executor.transaction(statements);
          applyToModel(model, changes, `run-${i}`);
          expect(sorted(await readRecordedGrants(executor, schema, 3))).toEqual(sorted([...model.values()]));
        }
      }),
      { numRuns: runs },
    );
  });

  it("splits a group over rows when its tables do not fit in one, and takes one table out of the row that lists it only", async () => {
    const schema = await freshSchema();
    const grantee = GRANTEES[0]!;
    const tables = Array.from({ length: 300 }, (_, i) => `t${String(i).padStart(3, "0")}`);
    const grants: Grant[] = tables.map((table) => ({ grantee, privilege: "SELECT", object: { schema: "s", table, columns: null } }));
    await executor.transaction(renderStateStatements(executor.dialect, schema, grants.map((grant) => ({ op: "record", grant, because: ["p1"], fresh: true })), "run-1", 2_000));
    const before = await rowsOf(schema);
    expect(before.length).toBeGreaterThan(3);
    await executor.transaction(renderStateStatements(executor.dialect, schema, [{ op: "forget", grant: grants[150]!, because: [] }], "run-2", 2_000));
    const after = await rowsOf(schema);
    expect(after).toHaveLength(before.length);
    const changed = after.filter((row, i) => row.tables !== before[i]!.tables);
    expect(changed).toHaveLength(1);
    expect(String(changed[0]!.tables)).not.toContain('"t150"');
    expect(after.every((row) => row.run_ref === "run-1")).toBe(true);
    const read = await readRecordedGrants(executor, schema);
    expect(read.map((g) => g.object.table)).toEqual(tables.filter((t) => t !== "t150"));
  });

  it("revokes one table out of a group without touching the names that contain it, or another grantee's row", async () => {
    const schema = await freshSchema();
    const grantsOf = (grantee: Grantee): Grant[] => TABLES.map((table) => ({ grantee, privilege: "SELECT", object: { schema: "s", table, columns: null } }));
    const all = [...grantsOf(GRANTEES[0]!), ...grantsOf(GRANTEES[1]!)];
    await executor.transaction(renderStateStatements(executor.dialect, schema, all.map((grant) => ({ op: "record", grant, because: ["p1"] })), "run-1"));
    expect(await rowsOf(schema)).toHaveLength(2);
    const [revoked] = grantsOf(GRANTEES[0]!);
    await executor.transaction(renderStateStatements(executor.dialect, schema, [{ op: "forget", grant: revoked!, because: [] }], "run-2"));
    const expected = all.filter((g) => g !== all[0]).map((g) => ({ ...g, because: ["p1"], runId: "run-1" }));
    expect(sorted(await readRecordedGrants(executor, schema))).toEqual(sorted(expected));
    // The last table of a row out: the row goes.
    await executor.transaction(renderStateStatements(executor.dialect, schema, grantsOf(GRANTEES[1]!).map((grant) => ({ op: "forget" as const, grant, because: [] })), "run-3"));
    expect(await rowsOf(schema)).toHaveLength(1);
  });

  it("leaves every row as it was when the batch fails after cutting a table out (one transaction)", async () => {
    const schema = await freshSchema();
    const grants: Grant[] = TABLES.map((table) => ({ grantee: GRANTEES[0]!, privilege: "SELECT", object: { schema: "s", table, columns: null } }));
    await executor.transaction(renderStateStatements(executor.dialect, schema, grants.map((grant) => ({ op: "record", grant, because: ["p1"] })), "run-1"));
    const before = await rowsOf(schema);
    const cut = renderStateStatements(executor.dialect, schema, [{ op: "forget", grant: grants[0]!, because: [] }, { op: "record", grant: grants[1]!, because: ["p2"] }], "run-2");
    await expect(executor.transaction([...cut, `SELECT * FROM ${schema}.no_such_table`])).rejects.toThrow();
    expect(await rowsOf(schema)).toEqual(before);
  });

  it("finds a group row by any table it lists in a targeted read, keeps only the scope's slots, and counts every slot once", async () => {
    const schema = await freshSchema();
    const wide = Array.from({ length: 1_600 }, (_, i) => `column_${String(i).padStart(4, "0")}_${"é".repeat(10)}`);
    const grants: Grant[] = [
      ...TABLES.map((table): Grant => ({ grantee: GRANTEES[0]!, privilege: "SELECT", object: { schema: "s", table, columns: null } })),
      { grantee: GRANTEES[1]!, privilege: "SELECT", object: { schema: "s", table: "ab", columns: wide } },
      { grantee: GRANTEES[1]!, privilege: "USAGE", object: { schema: "s", table: null, columns: null } },
      { grantee: GRANTEES[1]!, privilege: "SELECT", object: { schema: "ß", table: "ab", columns: null } },
    ];
    await executor.transaction(renderStateStatements(executor.dialect, schema, grants.map((grant) => ({ op: "record", grant, because: ["p1"] })), "run-1"));
    expect((await rowsOf(schema)).length).toBeGreaterThan(4);
    // Each list within 4 KB: a row stays far below the Data API's 64 KB, and a page of 5000 rows below 100 MB.
    const [widest] = await executor.query(
      `SELECT MAX(OCTET_LENGTH(COALESCE(columns, '')) + OCTET_LENGTH(COALESCE(tables, '')) + OCTET_LENGTH(COALESCE(policies, ''))) AS bytes FROM ${schema}.grant_slots`,
    );
    expect(Number(widest?.bytes)).toBeGreaterThan(3_000);
    expect(Number(widest?.bytes)).toBeLessThanOrEqual(3 * 4_096);
    const scoped = await readRecordedScope(executor, schema, { schemas: ["s"], tables: [{ schema: "s", table: "ab" }, { schema: "s", table: '"a' }] });
    const inScope = (g: Grant) => g.object.schema === "s" && (g.object.table === null || g.object.table === "ab" || g.object.table === '"a');
    expect(scoped.grants).toEqual((await readRecordedGrants(executor, schema)).filter(inScope));
    expect(scoped.grants.map((g) => [g.grantee.name, g.object.table])).toEqual([
      ["analysts", '"a'],
      ["analysts", "ab"],
      [GRANTEES[1]!.name, null],
      [GRANTEES[1]!.name, "ab"],
    ]);
    expect(scoped.total).toBe(grants.length);
  });
});
