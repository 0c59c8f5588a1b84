import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DesiredGrant, Dialect, Grant, RecordedGrant } from "../../src/core/grants.js";
import { mapEntitlements } from "../../src/core/map.js";
import { type Change, type Plan, type RecordChange, planChanges } from "../../src/core/plan.js";
import { type Batch, renderBatches, renderChange } from "../../src/core/render.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { byteLength } from "../../src/core/sql.js";
import { renderStateStatements } from "../../src/warehouse/state-store.js";
import { catalog, database, defaultMapping, desired, grant, inventory, planInput, policy, recorded, role, table } from "../support/catalog-builders.js";

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), "golden");

/** One state statement per `perStatement` records, so tests can see where state rows land. */
const stateEvery =
  (perStatement: number) =>
  (records: readonly RecordChange[]): string[] => {
    const out: string[] = [];
    for (let i = 0; i < records.length; i += perStatement) out.push(`/* state: ${records.slice(i, i + perStatement).map((r) => r.op).join(" ")} */`);
    return out;
  };

function render(plan: Plan, dialect: Dialect, options: { maxStatementBytes?: number; maxBatchStatements?: number; perState?: number } = {}): Batch[] {
  return renderBatches(plan, {
    dialect,
    stateStatements: stateEvery(options.perState ?? 1000),
    ...(options.maxStatementBytes === undefined ? {} : { maxStatementBytes: options.maxStatementBytes }),
    ...(options.maxBatchStatements === undefined ? {} : { maxBatchStatements: options.maxBatchStatements }),
  });
}

/** The SQL of a plan (state statements left out), batch by batch. */
function expectSql(plan: Plan, dialect: Dialect, expected: readonly (readonly string[])[]): void {
  const batches = render(plan, dialect).map((b) => b.statements.filter((s) => !s.startsWith("/* state")));
  expect(batches).toEqual(expected);
}

const change = (op: "grant" | "revoke", g: Grant): Change => ({ ...g, op, because: [], reason: op === "grant" ? "grantBecausePolicy" : "revokeBecauseNoPolicy" });

describe("renderChange: one statement per change, per dialect (aws-facts §6.1, §7)", () => {
  it.each<[string, Change, string, string]>([
    [
      "table-level grant to a group",
      change("grant", grant("analyst", "SELECT", "sales.orders")),
      'GRANT SELECT ON TABLE "sales"."orders" TO GROUP "analyst"',
      'GRANT SELECT ON TABLE "sales"."orders" TO "analyst"',
    ],
    [
      "grant to a role",
      change("grant", grant({ kind: "role", name: "bi" }, "INSERT", "sales.orders")),
      'GRANT INSERT ON TABLE "sales"."orders" TO ROLE "bi"',
      'GRANT INSERT ON TABLE "sales"."orders" TO "bi"',
    ],
    [
      "column revoke",
      change("revoke", grant("analyst", "SELECT", "sales.orders(id,amount)")),
      'REVOKE SELECT ("amount", "id") ON TABLE "sales"."orders" FROM GROUP "analyst"',
      'REVOKE SELECT ("amount", "id") ON TABLE "sales"."orders" FROM "analyst"',
    ],
    [
      "schema USAGE",
      change("grant", grant("analyst", "USAGE", "sales")),
      'GRANT USAGE ON SCHEMA "sales" TO GROUP "analyst"',
      'GRANT USAGE ON SCHEMA "sales" TO "analyst"',
    ],
    [
      "schema CREATE revoke",
      change("revoke", grant("analyst", "CREATE", "sales")),
      'REVOKE CREATE ON SCHEMA "sales" FROM GROUP "analyst"',
      'REVOKE CREATE ON SCHEMA "sales" FROM "analyst"',
    ],
  ])("%s", (_situation, c, redshift, postgres) => {
    expect(renderChange(c, "redshift")).toBe(redshift);
    expect(renderChange(c, "postgres")).toBe(postgres);
  });
});

const tables = (n: number, prefix = "t") => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, "0")}`);

function freshPlan(wanted: readonly DesiredGrant[], recordedGrants: readonly RecordedGrant[] = [], held: readonly Grant[] = []): Plan {
  const names = new Set([...wanted, ...recordedGrants].map((g) => `${g.object.schema}.${g.object.table ?? "_"}`));
  const inv = inventory({
    tables: Object.fromEntries([...names].map((n) => [n, ["a", "b", "c", "d"]])),
    grantees: [...new Set([...wanted, ...recordedGrants].map((g) => g.grantee.name))],
    held,
  });
  return planChanges(planInput({ desired: wanted, recorded: recordedGrants, inventory: inv }));
}

describe("renderBatches", () => {
  it("lists many tables in one statement for one grantee and privilege", () => {
    const plan = freshPlan([...tables(3).map((t) => desired("analyst", "SELECT", `s.${t}`)), desired("bi", "SELECT", "s.t000"), desired("analyst", "INSERT", "s.t001")]);
    expectSql(plan, "redshift", [
      [
        'GRANT INSERT ON TABLE "s"."t001" TO GROUP "analyst"',
        'GRANT SELECT ON TABLE "s"."t000", "s"."t001", "s"."t002" TO GROUP "analyst"',
        'GRANT SELECT ON TABLE "s"."t000" TO GROUP "bi"',
      ],
    ]);
    expectSql(plan, "postgres", [
      ['GRANT INSERT ON TABLE "s"."t001" TO "analyst"', 'GRANT SELECT ON TABLE "s"."t000", "s"."t001", "s"."t002" TO "analyst"', 'GRANT SELECT ON TABLE "s"."t000" TO "bi"'],
    ]);
  });

  it("runs revokes before grants", () => {
    const plan = freshPlan([desired("analyst", "SELECT", "s.t000")], [recorded("analyst", "SELECT", "s.t001")], [grant("analyst", "SELECT", "s.t001")]);
    expectSql(plan, "redshift", [['REVOKE SELECT ON TABLE "s"."t001" FROM GROUP "analyst"', 'GRANT SELECT ON TABLE "s"."t000" TO GROUP "analyst"']]);
  });

  it("splits a statement by bytes, never losing or repeating a table", () => {
    const plan = freshPlan(tables(50).map((t) => desired("analyst", "SELECT", `s.${t}`)));
    const statements = render(plan, "redshift", { maxStatementBytes: 200 }).flatMap((b) => b.statements.filter((s) => s.startsWith("GRANT")));
    expect(statements.length).toBeGreaterThan(3);
    for (const s of statements) expect(byteLength(s)).toBeLessThanOrEqual(200);
    const listed = statements.flatMap((s) => [...s.matchAll(/"s"\."(t\d+)"/g)].map((m) => m[1]));
    expect(listed).toEqual(tables(50));
  });

  it("bounds column-subset statements by bytes too", () => {
    const columns = Array.from({ length: 60 }, (_, i) => `column_${i}`);
    const inv = inventory({ tables: { "s.wide": columns }, grantees: ["analyst"] });
    const plan = planChanges(planInput({ desired: [desired("analyst", "SELECT", `s.wide(${columns.join(",")})`)], inventory: inv }));
    const statements = render(plan, "redshift", { maxStatementBytes: 300 }).flatMap((b) => b.statements.filter((s) => s.startsWith("GRANT")));
    for (const s of statements) expect(byteLength(s)).toBeLessThanOrEqual(300);
    const listed = statements.flatMap((s) => [...s.matchAll(/"(column_\d+)"/g)].map((m) => m[1]));
    expect([...listed].sort()).toEqual([...columns].sort());
  });

  it("keeps every batch within 40 statements, state statements included", () => {
    const grantees = Array.from({ length: 30 }, (_, i) => `g${i}`);
    const plan = freshPlan(grantees.flatMap((g) => tables(20).map((t) => desired(g, "SELECT", `s.${t}`))));
    for (const perState of [1, 7, 1000]) {
      const batches = render(plan, "redshift", { perState });
      for (const b of batches) expect(b.statements.length).toBeLessThanOrEqual(40);
      expect(batches.flatMap((b) => b.changes)).toHaveLength(plan.changes.length);
      expect(batches.flatMap((b) => b.records)).toHaveLength(plan.steps.flatMap((s) => s.records).length);
    }
  });

  it("keeps a batch within 40 statements when one grantee's merged grant carries many state rows", () => {
    const plan = freshPlan(tables(500).map((t) => desired("analyst", "SELECT", `s.${t}`)));
    const batches = render(plan, "redshift", { perState: 7 });
    for (const b of batches) expect(b.statements.length).toBeLessThanOrEqual(40);
    expect(batches.flatMap((b) => b.records)).toHaveLength(500);
  });

  it("keeps a full -> subset move (revoke, then grant) in one batch, revoke first", () => {
    const moves = tables(30).map((t) => desired("analyst", "SELECT", `s.${t}(a,b)`));
    const plan = freshPlan(
      [...moves, ...tables(30, "u").map((t) => desired("bi", "SELECT", `s.${t}`))],
      tables(30).map((t) => recorded("analyst", "SELECT", `s.${t}`)),
      tables(30).map((t) => grant("analyst", "SELECT", `s.${t}`)),
    );
    const batches = render(plan, "redshift", { maxBatchStatements: 7, perState: 1 });
    expect(batches.length).toBeGreaterThan(5);
    for (const t of tables(30)) {
      const holder = batches.filter((b) => b.statements.some((s) => s.includes(`"s"."${t}"`)));
      expect(holder).toHaveLength(1);
      const sql = holder[0]!.statements.filter((s) => s.includes(`"s"."${t}"`));
      expect(sql).toEqual([`REVOKE SELECT ON TABLE "s"."${t}" FROM GROUP "analyst"`, `GRANT SELECT ("a", "b") ON TABLE "s"."${t}" TO GROUP "analyst"`]);
    }
  });

  it("property: statements and batches stay in bounds; every change and record lands exactly once, a step never split", () => {
    const arb = fc.record({
      wanted: fc.array(fc.tuple(fc.constantFrom("g0", "g1", "g2"), fc.constantFrom("SELECT" as const, "INSERT" as const), fc.integer({ min: 0, max: 24 }), fc.subarray(["a", "b", "c", "d"])), { maxLength: 60 }),
      had: fc.array(fc.tuple(fc.constantFrom("g0", "g1", "g2"), fc.integer({ min: 0, max: 24 }), fc.subarray(["a", "b", "c", "d"])), { maxLength: 30 }),
      maxBytes: fc.integer({ min: 150, max: 2000 }),
      maxStatements: fc.integer({ min: 8, max: 40 }),
      perState: fc.integer({ min: 1, max: 10 }),
    });
    fc.assert(
      fc.property(arb, ({ wanted, had, maxBytes, maxStatements, perState }) => {
        const path = (t: number, cols: readonly string[]) => `s.t${t}${cols.length === 0 ? "" : `(${cols.join(",")})`}`;
        const wantedGrants = wanted.map(([g, p, t, cols]) => desired(g, p, path(t, p === "SELECT" ? cols : [])));
        const hadGrants = had.map(([g, t, cols]) => recorded(g, "SELECT", path(t, cols)));
        const plan = freshPlan(wantedGrants, hadGrants, hadGrants);
        // Rendered before plan.steps is read: first grants come from their rows, as in a real apply.
        const batches = render(plan, "redshift", { maxStatementBytes: maxBytes, maxBatchStatements: maxStatements, perState });
        for (const b of batches) {
          expect(b.statements.length).toBeLessThanOrEqual(maxStatements);
          for (const s of b.statements) expect(byteLength(s)).toBeLessThanOrEqual(maxBytes);
        }
        expect(batches.flatMap((b) => b.changes).length).toBe(plan.changes.length);
        expect(batches.flatMap((b) => b.records).length).toBe(plan.steps.reduce((n, s) => n + s.records.length, 0));
        // Compared by content: steps made from rows are new objects each time.
        const key = (x: unknown) => JSON.stringify(x);
        const contents = batches.map((b) => ({ changes: new Set(b.changes.map(key)), records: new Set(b.records.map(key)) }));
        for (const step of plan.steps) {
          const homes = contents.filter((b) => step.changes.every((c) => b.changes.has(key(c))) && step.records.every((r) => b.records.has(key(r))));
          expect(homes).toHaveLength(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("golden SQL for a realistic plan", () => {
  const analyst = role("analyst");
  const snapshot = catalog({
    databases: [
      database("sales", { access: "internal", pii: "false" }, [
        table("orders", {}, ["order_id", "amount", ["email", { pii: "true" }], "order_date"]),
        table("customers", { access: "restricted" }, ["customer_id", "name", ["phone", { pii: "true" }]]),
        table("regions", { access: "public" }, ["region_id", "name"]),
      ]),
      database("hr", { access: "restricted", pii: "true" }, [table("salaries", {}, ["employee_id", "salary"]), table("org_chart", { pii: "false" }, ["employee_id", "manager_id"])]),
    ],
    policies: [
      policy(analyst, "TABLE", { access: ["public", "internal"], pii: ["false"] }, ["SELECT"]),
      policy(analyst, "DATABASE", { access: ["internal"] }, ["DESCRIBE"]),
      policy(role("DataEngineer"), "TABLE", { access: ["internal", "restricted"] }, ["ALL"]),
      policy(role("DataEngineer"), "DATABASE", { access: ["internal", "restricted"] }, ["CREATE_TABLE", "DESCRIBE"]),
      policy(role("HrPartner"), "TABLE", { access: ["restricted"], pii: ["false"] }, ["SELECT"]),
    ],
  });
  const inv = (held: readonly Grant[]) =>
    inventory({
      tables: {
        "sales.orders": ["order_id", "amount", "email", "order_date"],
        "sales.customers": ["customer_id", "name", "phone"],
        "sales.regions": ["region_id", "name"],
        "hr.salaries": ["employee_id", "salary"],
        "hr.org_chart": ["employee_id", "manager_id"],
      },
      grantees: ["analyst", "dataengineer", "hrpartner", "finance"],
      held,
    });
  // The previous run: analyst had all of sales.orders, finance had hr.salaries.
  const before = [recorded("analyst", "SELECT", "sales.orders"), recorded("finance", "SELECT", "hr.salaries"), recorded("finance", "USAGE", "hr")];
  const held = [grant("analyst", "SELECT", "sales.orders"), grant("finance", "SELECT", "hr.salaries"), grant("finance", "USAGE", "hr")];

  it.each<Dialect>(["redshift", "postgres"])("%s", (dialect) => {
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), dialect);
    const plan = planChanges(planInput({ desired: state.grants, recorded: before, inventory: inv(held), dialect }));
    const sql = render(plan, dialect, { maxBatchStatements: 8, perState: 4 })
      .map((b, i) => `-- batch ${i + 1}\n${b.statements.join(";\n")};\n`)
      .join("\n");
    const file = join(GOLDEN, `plan.${dialect}.sql`);
    if (!existsSync(file)) {
      if (process.env.UPDATE_GOLDEN !== "1") throw new Error(`${file} is missing: run with UPDATE_GOLDEN=1 to write it, then review it`);
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(file, sql);
    }
    expect(sql).toBe(readFileSync(file, "utf8"));
  });
});

describe("batch bounds by objects touched", () => {
  it("keeps every batch at or under maxBatchObjects tables (PostgreSQL's lock table), and renders every change", () => {
    const tables = Array.from({ length: 250 }, (_, i) => `t${i}`);
    const plan = planChanges(
      planInput({
        desired: tables.map((t) => desired("analyst", "SELECT", `sales.${t}`)),
        inventory: inventory({ tables: Object.fromEntries(tables.map((t) => [`sales.${t}`, ["id"]])), grantees: ["analyst"] }),
      }),
    );
    const batches = renderBatches(plan, { dialect: "postgres", stateStatements: () => [], maxBatchObjects: 100 });
    expect(batches.map((b) => b.changes.filter((c) => c.object.table !== null).length)).toEqual([100, 100, 50]);
    expect(batches.flatMap((b) => b.changes)).toHaveLength(250);
  });
});

describe("batches for the redshift dialect: Data API limits, not PostgreSQL's lock table", () => {
  /** A first apply (and a revoke of what the previous run recorded) over `n` tables, with real state rows. */
  function largePlan(n: number, columns = true): Plan {
    const names = tables(n);
    const wanted = names.flatMap((t, i) => [
      desired("analyst", "SELECT", `sales.${t}`, [`policy#${i % 7} Access in (public, internal)`]),
      desired({ kind: "role", name: "bi" }, "SELECT", columns && i % 5 === 0 ? `sales.${t}(a,b)` : `sales.${t}`),
      desired("loader", "INSERT", `sales.${t}`),
    ]);
    const before = names.slice(0, n / 10).map((t) => recorded("gone", "DELETE", `sales.${t}`));
    const inv = inventory({
      tables: Object.fromEntries(names.map((t) => [`sales.${t}`, ["a", "b", "c", "d"]])),
      grantees: ["analyst", "loader", "gone", { kind: "role", name: "bi" }],
      held: before.map((r) => grant("gone", "DELETE", `sales.${r.object.table!}`)),
    });
    return planChanges(planInput({ desired: wanted, recorded: before, inventory: inv, dialect: "redshift", safety: { maxRevokes: 1e9, maxRevokeRatio: 1 } }));
  }

  const stateStatements = (records: readonly RecordChange[]) => renderStateStatements("redshift", "lfsync", records, "run-1");
  const sizes = (batches: readonly Batch[]) => batches.map((b) => ({ statements: b.statements.length, bytes: b.statements.reduce((sum, sql) => sum + byteLength(sql), 0) }));

  it("keeps every batch within 40 statements and 100 KB, and within 1.2x of the fewest batches those limits allow", () => {
    const plan = largePlan(3000, false);
    const batches = renderBatches(plan, { dialect: "redshift", stateStatements });
    const size = sizes(batches);
    expect(Math.max(...size.map((s) => s.statements))).toBeLessThanOrEqual(40);
    expect(Math.max(...size.map((s) => s.bytes))).toBeLessThanOrEqual(100_000);
    const fewest = Math.max(Math.ceil(size.reduce((sum, s) => sum + s.statements, 0) / 40), Math.ceil(size.reduce((sum, s) => sum + s.bytes, 0) / 100_000));
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(1.2 * fewest));
    expect(batches.flatMap((b) => b.changes)).toHaveLength(plan.changes.length);
    expect(batches.flatMap((b) => b.records).length).toBe(plan.steps.reduce((sum, s) => sum + s.records.length, 0));
  });

  it("mixes column grants (a statement each) with merged grants (many bytes each): within 1.2x, each batch 85% full in one limit", () => {
    const plan = largePlan(3000, true);
    const size = sizes(renderBatches(plan, { dialect: "redshift", stateStatements }));
    expect(Math.max(...size.map((s) => s.bytes))).toBeLessThanOrEqual(100_000);
    expect(Math.max(...size.map((s) => s.statements))).toBeLessThanOrEqual(40);
    const fewest = Math.max(Math.ceil(size.reduce((sum, s) => sum + s.statements, 0) / 40), Math.ceil(size.reduce((sum, s) => sum + s.bytes, 0) / 100_000));
    expect(size.length).toBeLessThanOrEqual(Math.ceil(1.2 * fewest));
    const underfull = size.slice(0, -1).filter((s) => s.statements < 0.85 * 40 && s.bytes < 0.85 * 100_000);
    expect(underfull).toEqual([]);
  });

  it("renders first column grants grantee by grantee, so a first apply's state SQL (grouped rows) is smaller than its GRANT SQL", () => {
    const names = tables(600);
    const wanted = names.flatMap((t, i) => [
      desired("analyst", "SELECT", `sales.${t}(a,b)`, [`policy#${i % 3}`]),
      desired({ kind: "role", name: "bi" }, "SELECT", `sales.${t}(a,b,c)`),
      desired("loader", "INSERT", `sales.${t}`),
    ]);
    const inv = inventory({ tables: Object.fromEntries(names.map((t) => [`sales.${t}`, ["a", "b", "c", "d"]])), grantees: ["analyst", "loader", { kind: "role", name: "bi" }] });
    const plan = planChanges(planInput({ desired: wanted, inventory: inv, dialect: "redshift" }));
    const uuid = "5f0c9a4e-1b2d-4c3e-8f70-9a1b2c3d4e5f";
    const statements = renderBatches(plan, { dialect: "redshift", stateStatements: (records) => renderStateStatements("redshift", "lfsync", records, uuid) }).flatMap((b) => b.statements);
    const columnGrantees = statements.filter((sql) => sql.startsWith("GRANT SELECT (")).map((sql) => sql.slice(sql.lastIndexOf(" TO ")));
    expect(columnGrantees).toHaveLength(1200);
    expect(columnGrantees.filter((grantee, i) => i > 0 && grantee !== columnGrantees[i - 1])).toHaveLength(1);
    const bytes = (list: readonly string[]) => list.reduce((sum, sql) => sum + byteLength(sql), 0);
    const grants = statements.filter((sql) => sql.startsWith("GRANT"));
    expect(bytes(statements) - bytes(grants)).toBeLessThan(bytes(grants) / 2);
  });

  it("keeps revokes before grants and each column move whole, however the batches are cut", () => {
    const plan = largePlan(600);
    const batches = renderBatches(plan, { dialect: "redshift", stateStatements });
    const ops = batches.flatMap((b) => b.changes.map((c) => c.op));
    expect(ops.indexOf("grant")).toBeGreaterThan(ops.lastIndexOf("revoke"));
    for (const batch of batches) {
      const named = batch.statements.filter((s) => s.startsWith("GRANT") || s.startsWith("REVOKE")).join(" ");
      for (const c of batch.changes) expect(named).toContain(`"${c.object.table ?? c.object.schema}"`);
    }
  });
});

describe("render: a principal moving from a group to a role", () => {
  const mover = (kind: "group" | "role") => ({ kind, name: "mover" });
  const tables = ["a", "b", "c", "d", "e"];
  // PostgreSQL's inventory reports a role's grants under both kinds of its name (inventory-postgres.ts).
  const moveInput = (dialect: Dialect = "redshift") =>
    planInput({
      dialect,
      desired: [desired(mover("role"), "USAGE", "sales"), ...tables.map((t) => desired(mover("role"), "SELECT", `sales.${t}`))],
      recorded: [recorded(mover("group"), "USAGE", "sales"), ...tables.map((t) => recorded(mover("group"), "SELECT", `sales.${t}`))],
      inventory: inventory({
        tables: Object.fromEntries(tables.map((t) => [`sales.${t}`, ["id"]])),
        grantees: [mover("group"), mover("role")],
        held: (dialect === "postgres" ? [mover("group"), mover("role")] : [mover("group")]).flatMap((g) => [grant(g, "USAGE", "sales"), ...tables.map((t) => grant(g, "SELECT", `sales.${t}`))]),
      }),
    });
  const plan = planChanges(moveInput());

  it("grants the role before revoking the group, object by object, in one batch (transaction) each, even with tight batches", () => {
    for (const maxBatchStatements of [2, 3, 40]) {
      const batches = render(plan, "redshift", { maxBatchStatements });
      const moved = new Set<string>();
      for (const batch of batches) {
        const sql = batch.statements.filter((s) => /^(GRANT|REVOKE) /.test(s));
        for (const [i, s] of sql.entries()) {
          const revoke = /^REVOKE (\w+) ON (.+) FROM GROUP "mover"$/.exec(s);
          if (revoke === null) continue;
          // The role's grant of the same object and privilege comes right before, in the same batch.
          expect(sql[i - 1]).toBe(`GRANT ${revoke[1]} ON ${revoke[2]} TO ROLE "mover"`);
          moved.add(`${revoke[1]} ${revoke[2]}`);
        }
      }
      expect(moved.size).toBe(tables.length + 1);
    }
  });

  it("on PostgreSQL (one role under both kinds) plans no SQL at all: the recorded slots move to the role, and nothing held counts as unmanaged", () => {
    const pg = planChanges(moveInput("postgres"));
    expect(pg.changes).toEqual([]);
    expect(pg.unmanaged).toEqual([]);
    expect(pg.summary.stateOnly).toBe(tables.length + 1);
    const records = pg.steps.flatMap((s) => s.records).map((r) => `${r.op} ${r.grant.grantee.kind} ${r.grant.privilege} ${r.grant.object.table ?? r.grant.object.schema}`);
    expect(records).toEqual(["forget group USAGE sales", "record role USAGE sales", ...tables.flatMap((t) => [`forget group SELECT ${t}`, `record role SELECT ${t}`])]);
    expect(render(pg, "postgres").flatMap((b) => b.statements).filter((s) => /^(GRANT|REVOKE) /.test(s))).toEqual([]);
  });

  it("on PostgreSQL, a slot recorded under both kinds while the role alone is mapped is merged into the role's row: no REVOKE that would take it from both", () => {
    const input = moveInput("postgres");
    const pg = planChanges({ ...input, recorded: [...(input.recorded as RecordedGrant[]), recorded(mover("role"), "SELECT", "sales.a")] });
    expect(pg.changes).toEqual([]);
    const forgotten = pg.steps.flatMap((s) => s.records).filter((r) => r.op === "forget");
    expect(forgotten.every((r) => r.grant.grantee.kind === "group")).toBe(true);
    expect(forgotten).toHaveLength(tables.length + 1);
  });
});

describe("render: a principal moving to a grantee of another name", () => {
  const tables = ["a", "b", "c"];
  const from = { kind: "group" as const, name: "old_team" };
  const to = { kind: "role" as const, name: "new_team" };
  const input = (dialect: Dialect) =>
    planInput({
      dialect,
      desired: [desired(to, "USAGE", "sales", ["policy-a"]), ...tables.map((t) => desired(to, "SELECT", `sales.${t}`, ["policy-a"])), desired("other", "SELECT", "sales.a", ["policy-b"])],
      recorded: [recorded(from, "USAGE", "sales", ["policy-a"]), ...tables.map((t) => recorded(from, "SELECT", `sales.${t}`, ["policy-a"]))],
      inventory: inventory({
        tables: Object.fromEntries(tables.map((t) => [`sales.${t}`, ["id"]])),
        grantees: [from, to, "other"],
        held: [grant(from, "USAGE", "sales"), ...tables.map((t) => grant(from, "SELECT", `sales.${t}`))],
      }),
    });

  it.each(["redshift", "postgres"] as const)("%s: grants the new grantee right before revoking the old one, object by object, in one batch each", (dialect) => {
    const batches = render(planChanges(input(dialect)), dialect, { maxBatchStatements: 2 });
    const moved: string[] = [];
    for (const batch of batches) {
      const sql = batch.statements.filter((s) => /^(GRANT|REVOKE) /.test(s));
      for (const [i, s] of sql.entries()) {
        const revoke = /^REVOKE (\w+) ON (.+) FROM (?:GROUP )?"old_team"$/.exec(s);
        if (revoke === null) continue;
        expect(sql[i - 1]).toBe(`GRANT ${revoke[1]} ON ${revoke[2]} TO ${dialect === "redshift" ? "ROLE " : ""}"new_team"`);
        moved.push(`${revoke[1]} ${revoke[2]}`);
      }
    }
    expect(moved.sort()).toEqual(['SELECT TABLE "sales"."a"', 'SELECT TABLE "sales"."b"', 'SELECT TABLE "sales"."c"', 'USAGE SCHEMA "sales"']);
  });


  it.each(["redshift", "postgres"] as const)("%s: column grants move the same way, and the group -> role move of a column grant on Redshift too", (dialect) => {
    const columns = planInput({
      dialect,
      desired: [desired(to, "SELECT", "sales.a(id)", ["policy-a"]), desired(to, "SELECT", "sales.b(id,name)", ["policy-a"]), desired({ kind: "role", name: "crew" }, "SELECT", "sales.c(id)", ["policy-c"])],
      recorded: [recorded(from, "SELECT", "sales.a(id)", ["policy-a"]), recorded(from, "SELECT", "sales.b", ["policy-a"]), recorded({ kind: "group", name: "crew" }, "SELECT", "sales.c(id)", ["policy-c"])],
      inventory: inventory({
        tables: { "sales.a": ["id", "name"], "sales.b": ["id", "name"], "sales.c": ["id"] },
        grantees: [from, to, { kind: "group", name: "crew" }, { kind: "role", name: "crew" }],
        // PostgreSQL reports one role's grants under both kinds of its name.
        held: [grant(from, "SELECT", "sales.a(id)"), grant(from, "SELECT", "sales.b"), ...(dialect === "postgres" ? ["group" as const, "role" as const] : ["group" as const]).map((kind) => grant({ kind, name: "crew" }, "SELECT", "sales.c(id)"))],
      }),
    });
    const plan = planChanges(columns);
    const batches = render(plan, dialect, { maxBatchStatements: 2 });
    const pairs = batches.map((b) => b.statements.filter((s) => /^(GRANT|REVOKE) /.test(s)).map((s) => s.replace(/ (TO|FROM) .*$/, (m) => m.replace(/GROUP |ROLE /, ""))));
    const expected = [
      ['GRANT SELECT ("id") ON TABLE "sales"."a" TO "new_team"', 'REVOKE SELECT ("id") ON TABLE "sales"."a" FROM "old_team"'],
      ['GRANT SELECT ("id", "name") ON TABLE "sales"."b" TO "new_team"', 'REVOKE SELECT ON TABLE "sales"."b" FROM "old_team"'],
      ...(dialect === "redshift" ? [['GRANT SELECT ("id") ON TABLE "sales"."c" TO "crew"', 'REVOKE SELECT ("id") ON TABLE "sales"."c" FROM "crew"']] : []),
    ];
    expect(pairs.filter((p) => p.length > 0).sort()).toEqual(expected.sort());
  });
});
