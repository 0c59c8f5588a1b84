import { describe, expect, it } from "vitest";
import type { DesiredGrant, Grant, RecordedGrant } from "../../src/core/grants.js";
import type { InventoryLike } from "../../src/core/inventory-view.js";
import { type Plan, planChanges } from "../../src/core/plan.js";
import { desired, grant, inventory, planInput, recorded } from "../support/catalog-builders.js";

function path(g: Grant): string {
  const o = g.object;
  return `${o.schema}${o.table === null ? "" : `.${o.table}`}${o.columns === null ? "" : `(${o.columns.join(",")})`}`;
}

/** Each step as `revoke SELECT sales.orders analyst; grant SELECT sales.orders(amount,id) analyst | forget ..., record ...`. */
function stepLines(plan: Plan): string[] {
  return plan.steps.map((s) => {
    const changes = s.changes.map((c) => `${c.op} ${c.privilege} ${path(c)} ${c.grantee.name}`).join("; ");
    const records = s.records.map((r) => `${r.op} ${path(r.grant)}`).join(", ");
    return `${changes} | ${records}`;
  });
}

const world: InventoryLike = inventory({
  tables: { "sales.orders": ["id", "amount", "email"], "sales.customers": ["id", "name"] },
  schemas: ["hr"],
  grantees: ["analyst", "bi"],
});
const withHeld = (...held: Grant[]): InventoryLike => ({ ...world, held });

interface Row {
  readonly situation: string;
  readonly desired?: readonly DesiredGrant[];
  readonly recorded?: readonly RecordedGrant[];
  readonly held?: readonly Grant[];
  readonly dialect?: "redshift" | "postgres";
  readonly steps: readonly string[];
  readonly pending?: readonly string[];
  readonly warning?: RegExp;
}

const rows: readonly Row[] = [
  {
    situation: "desired, not recorded, not held -> grant and record",
    desired: [desired("analyst", "SELECT", "sales.orders")],
    steps: ["grant SELECT sales.orders analyst | record sales.orders"],
  },
  {
    situation: "desired = recorded = held -> nothing",
    desired: [desired("analyst", "SELECT", "sales.orders"), desired("analyst", "SELECT", "sales.customers(id)")],
    recorded: [recorded("analyst", "SELECT", "sales.orders"), recorded("analyst", "SELECT", "sales.customers(id)")],
    held: [grant("analyst", "SELECT", "sales.orders"), grant("analyst", "SELECT", "sales.customers(id)")],
    steps: [],
  },
  {
    situation: "recorded and held, no longer desired -> revoke and forget",
    recorded: [recorded("analyst", "SELECT", "sales.orders")],
    held: [grant("analyst", "SELECT", "sales.orders")],
    steps: ["revoke SELECT sales.orders analyst | forget sales.orders"],
  },
  {
    situation: "held but never recorded, not desired -> never revoked",
    held: [grant("analyst", "SELECT", "sales.orders"), grant("bi", "SELECT", "sales.customers(id)")],
    steps: [],
  },
  {
    situation: "held and recorded columns (id) plus unrecorded (name), no longer desired -> revoke only (id)",
    recorded: [recorded("bi", "SELECT", "sales.customers(id)")],
    held: [grant("bi", "SELECT", "sales.customers(id,name)")],
    steps: ["revoke SELECT sales.customers(id) bi | forget sales.customers(id)"],
  },
  {
    situation: "recorded and desired but not held (drift) -> grant again",
    desired: [desired("analyst", "SELECT", "sales.orders")],
    recorded: [recorded("analyst", "SELECT", "sales.orders")],
    steps: ["grant SELECT sales.orders analyst | record sales.orders"],
  },
  {
    situation: "recorded subset (amount,id), only (id) held (drift) -> grant (amount) again",
    desired: [desired("analyst", "SELECT", "sales.orders(amount,id)")],
    recorded: [recorded("analyst", "SELECT", "sales.orders(amount,id)")],
    held: [grant("analyst", "SELECT", "sales.orders(id)")],
    steps: ["grant SELECT sales.orders(amount) analyst | record sales.orders(amount,id)"],
  },
  {
    situation: "recorded but not held and no longer desired -> forget without SQL",
    recorded: [recorded("analyst", "SELECT", "sales.orders")],
    steps: [" | forget sales.orders"],
  },
  // Full-table <-> column-subset (aws-facts §6.2, trap 10)
  {
    situation: "full -> subset (amount,id): revoke the table-level grant first, in the same step",
    desired: [desired("analyst", "SELECT", "sales.orders(amount,id)")],
    recorded: [recorded("analyst", "SELECT", "sales.orders")],
    held: [grant("analyst", "SELECT", "sales.orders")],
    steps: ["revoke SELECT sales.orders analyst; grant SELECT sales.orders(amount,id) analyst | forget sales.orders, record sales.orders(amount,id)"],
  },
  {
    situation: "subset (amount,id) -> full: revoke the columns first, in the same step",
    desired: [desired("analyst", "SELECT", "sales.orders")],
    recorded: [recorded("analyst", "SELECT", "sales.orders(amount,id)")],
    held: [grant("analyst", "SELECT", "sales.orders(amount,id)")],
    steps: ["revoke SELECT sales.orders(amount,id) analyst; grant SELECT sales.orders analyst | forget sales.orders(amount,id), record sales.orders"],
  },
  {
    situation: "subset (amount,id) -> (amount,email): revoke only (id), grant only (email)",
    desired: [desired("analyst", "SELECT", "sales.orders(amount,email)")],
    recorded: [recorded("analyst", "SELECT", "sales.orders(amount,id)")],
    held: [grant("analyst", "SELECT", "sales.orders(amount,id)")],
    steps: ["revoke SELECT sales.orders(id) analyst; grant SELECT sales.orders(email) analyst | forget sales.orders(id), record sales.orders(amount,email)"],
  },
  {
    situation: "subset (amount,id) -> (id): revoke only (amount)",
    desired: [desired("analyst", "SELECT", "sales.orders(id)")],
    recorded: [recorded("analyst", "SELECT", "sales.orders(amount,id)")],
    held: [grant("analyst", "SELECT", "sales.orders(amount,id)")],
    steps: ["revoke SELECT sales.orders(amount) analyst | forget sales.orders(amount), record sales.orders(id)"],
  },
  {
    situation: "subset (id) -> (amount,id): grant only (amount)",
    desired: [desired("analyst", "SELECT", "sales.orders(amount,id)")],
    recorded: [recorded("analyst", "SELECT", "sales.orders(id)")],
    held: [grant("analyst", "SELECT", "sales.orders(id)")],
    steps: ["grant SELECT sales.orders(amount) analyst | record sales.orders(amount,id)"],
  },
  // Objects missing in the target (DESIGN §3)
  {
    situation: "grantee missing -> pending, no SQL",
    desired: [desired("ghost", "SELECT", "sales.orders")],
    steps: [],
    pending: ["grantee SELECT sales.orders ghost"],
  },
  {
    situation: "schema missing -> pending",
    desired: [desired("analyst", "USAGE", "nope")],
    steps: [],
    pending: ["schema USAGE nope analyst"],
  },
  {
    situation: "table missing -> pending",
    desired: [desired("analyst", "SELECT", "sales.nope")],
    steps: [],
    pending: ["table SELECT sales.nope analyst"],
  },
  {
    situation: "some columns missing -> grant the present ones, the others pending",
    desired: [desired("analyst", "SELECT", "sales.orders(amount,gone)")],
    steps: ["grant SELECT sales.orders(amount) analyst | record sales.orders(amount)"],
    pending: ["columns SELECT sales.orders(gone) analyst"],
  },
  {
    situation: "recorded grant on a vanished table -> forgotten without SQL",
    recorded: [recorded("analyst", "SELECT", "sales.gone")],
    steps: [" | forget sales.gone"],
  },
  {
    situation: "recorded grant of a vanished grantee -> forgotten without SQL",
    recorded: [recorded("ghost", "SELECT", "sales.orders")],
    steps: [" | forget sales.orders"],
  },
  {
    situation: "recorded grant on a vanished table that is still desired -> pending, forgotten without SQL",
    desired: [desired("analyst", "SELECT", "sales.gone")],
    recorded: [recorded("analyst", "SELECT", "sales.gone")],
    steps: [" | forget sales.gone"],
    pending: ["table SELECT sales.gone analyst"],
  },
  {
    situation: "recorded column (gone) vanished from the table -> forgotten without SQL",
    desired: [desired("analyst", "SELECT", "sales.orders(id)")],
    recorded: [recorded("analyst", "SELECT", "sales.orders(gone,id)")],
    held: [grant("analyst", "SELECT", "sales.orders(id)")],
    steps: [" | forget sales.orders(gone), record sales.orders(id)"],
  },
  // Grants made outside the service
  {
    situation: "desired full, columns held outside the service (redshift) -> warning, no SQL (Redshift would fail)",
    desired: [desired("analyst", "SELECT", "sales.orders")],
    held: [grant("analyst", "SELECT", "sales.orders(id)")],
    steps: [],
    warning: /column-level grants made outside the service/,
  },
  {
    situation: "desired full, columns held outside the service (postgres) -> grant",
    desired: [desired("analyst", "SELECT", "sales.orders")],
    held: [grant("analyst", "SELECT", "sales.orders(id)")],
    dialect: "postgres",
    steps: ["grant SELECT sales.orders analyst | record sales.orders"],
  },
  {
    situation: "desired subset, full held outside the service -> warning, nothing revoked",
    desired: [desired("analyst", "SELECT", "sales.orders(id)")],
    held: [grant("analyst", "SELECT", "sales.orders")],
    steps: [],
    warning: /wider than the columns Lake Formation allows/,
  },
  {
    situation: "desired full, recorded (id) + (name) held outside the service (redshift) -> warning, no SQL",
    desired: [desired("bi", "SELECT", "sales.customers")],
    recorded: [recorded("bi", "SELECT", "sales.customers(id)")],
    held: [grant("bi", "SELECT", "sales.customers(id,name)")],
    steps: [],
    warning: /column-level grants made outside the service/,
  },
  {
    situation: "recorded full and (id), only (id) held (drift) -> revoke (id) before the table-level grant",
    desired: [desired("bi", "SELECT", "sales.customers")],
    recorded: [recorded("bi", "SELECT", "sales.customers"), recorded("bi", "SELECT", "sales.customers(id)")],
    held: [grant("bi", "SELECT", "sales.customers(id)")],
    steps: ["revoke SELECT sales.customers(id) bi; grant SELECT sales.customers bi | record sales.customers, forget sales.customers(id)"],
  },
  {
    situation: "desired (id), recorded (id,name), full held outside the service -> forget (name), no column GRANT, warning",
    desired: [desired("bi", "SELECT", "sales.customers(id)")],
    recorded: [recorded("bi", "SELECT", "sales.customers(id,name)")],
    held: [grant("bi", "SELECT", "sales.customers")],
    steps: [" | forget sales.customers(name), record sales.customers(id)"],
    warning: /wider than the columns Lake Formation allows/,
  },
  {
    situation: "schema USAGE desired -> grant on the schema",
    desired: [desired("analyst", "USAGE", "hr")],
    steps: ["grant USAGE hr analyst | record hr"],
  },
];

describe("planChanges: one row per situation", () => {
  it.each(rows)("$situation", (row) => {
    const plan = planChanges(
      planInput({ desired: row.desired ?? [], recorded: row.recorded ?? [], inventory: withHeld(...(row.held ?? [])), dialect: row.dialect ?? "redshift" }),
    );
    expect(stepLines(plan)).toEqual(row.steps);
    expect(plan.pending.map((p) => `${p.missing} ${p.privilege} ${path(p)} ${p.grantee.name}`)).toEqual(row.pending ?? []);
    expect(plan.complete).toBe((row.pending ?? []).length === 0);
    if (row.warning === undefined) expect(plan.warnings).toEqual([]);
    else expect(plan.warnings.some((w) => row.warning!.test(w)), plan.warnings.join("\n")).toBe(true);
    // The flat list holds the same changes as the steps.
    expect(plan.changes).toHaveLength(plan.steps.reduce((n, s) => n + s.changes.length, 0));
  });

  it("names the reason of each change", () => {
    const plan = planChanges(
      planInput({
        desired: [desired("analyst", "SELECT", "sales.orders(amount,id)"), desired("bi", "SELECT", "sales.orders")],
        recorded: [recorded("analyst", "SELECT", "sales.orders"), recorded("bi", "SELECT", "sales.orders"), recorded("bi", "INSERT", "sales.orders")],
        inventory: withHeld(grant("analyst", "SELECT", "sales.orders"), grant("bi", "INSERT", "sales.orders")),
      }),
    );
    expect(plan.changes.map((c) => `${c.grantee.name} ${c.privilege} ${c.op} ${c.reason}`)).toEqual([
      "analyst SELECT grant grantBecauseFormChanged",
      "analyst SELECT revoke revokeBecauseFormChanged",
      "bi INSERT revoke revokeBecauseNoPolicy",
      "bi SELECT grant grantBecauseDriftRepair",
    ]);
  });

  it("summarises grants, revokes, pending and unchanged", () => {
    const plan = planChanges(
      planInput({
        desired: [desired("analyst", "SELECT", "sales.orders"), desired("analyst", "USAGE", "sales"), desired("ghost", "USAGE", "sales")],
        recorded: [recorded("analyst", "USAGE", "sales"), recorded("bi", "USAGE", "sales")],
        inventory: withHeld(grant("analyst", "USAGE", "sales"), grant("bi", "USAGE", "sales")),
      }),
    );
    expect(plan.summary).toEqual({ grants: 1, revokes: 1, pending: 1, unchanged: 1, stateOnly: 0, adopted: 0, unmanaged: 0 });
  });
});

describe("planChanges: sort order (DESIGN §4.2)", () => {
  it("sorts changes by schema, table (schema-level first), grantee, privilege, op", () => {
    const inv = inventory({ tables: { "b.t": ["x"], "a.u": ["x"], "a.t": ["x"], "a b.t": ["x"], "a!.t": ["x"] }, grantees: ["z", "y"] });
    const wanted = [
      desired("z", "SELECT", "b.t"),
      desired("z", "SELECT", "a.u"),
      desired("z", "INSERT", "a.t"),
      desired("y", "SELECT", "a.t"),
      desired("z", "USAGE", "a"),
      desired("z", "SELECT", "a b.t"),
      desired("z", "SELECT", "a!.t"),
    ];
    const plan = planChanges(planInput({ desired: wanted, inventory: inv }));
    expect(plan.changes.map((c) => `${path(c)} ${c.grantee.name} ${c.privilege}`)).toEqual([
      "a z USAGE",
      "a.t y SELECT",
      "a.t z INSERT",
      "a.u z SELECT",
      "a b.t z SELECT",
      "a!.t z SELECT",
      "b.t z SELECT",
    ]);
  });
});

describe("planChanges: safety (DESIGN §4.2)", () => {
  const three = ["sales.orders", "sales.customers", "sales"] as const;
  const recordedThree = three.map((p) => recorded("analyst", p === "sales" ? "USAGE" : "SELECT", p));
  const heldThree = three.map((p) => grant("analyst", p === "sales" ? "USAGE" : "SELECT", p));

  it.each([
    { situation: "3 revokes, maxRevokes 2 -> refused", maxRevokes: 2, maxRevokeRatio: 1, policyCount: 1, force: false, refused: true, reason: /more than safety.maxRevokes \(2\)/ },
    { situation: "3 revokes, maxRevokes 3 -> allowed", maxRevokes: 3, maxRevokeRatio: 1, policyCount: 1, force: false, refused: false, reason: null },
    { situation: "3 of 3 recorded revoked, ratio 0.5 -> refused", maxRevokes: 100, maxRevokeRatio: 0.5, policyCount: 1, force: false, refused: true, reason: /3 of 3 recorded grants/ },
    { situation: "no policies while grants are recorded -> refused", maxRevokes: 100, maxRevokeRatio: 1, policyCount: 0, force: false, refused: true, reason: /no policies/ },
    { situation: "--force overrides every rule, and says so", maxRevokes: 0, maxRevokeRatio: 0, policyCount: 0, force: true, refused: false, reason: /no policies/ },
  ])("$situation", ({ maxRevokes, maxRevokeRatio, policyCount, force, refused, reason }) => {
    const plan = planChanges(
      planInput({ recorded: recordedThree, inventory: withHeld(...heldThree), safety: { maxRevokes, maxRevokeRatio }, policyCount, force }),
    );
    expect(plan.summary.revokes).toBe(3);
    expect(plan.safety.refused).toBe(refused);
    expect(plan.applyable).toBe(!refused);
    expect(plan.safety.forced).toBe(force);
    if (reason === null) expect(plan.safety.reasons).toEqual([]);
    else expect(plan.safety.reasons.some((r) => reason.test(r)), plan.safety.reasons.join("\n")).toBe(true);
  });

  it("no policies and nothing recorded -> not refused (a fresh install)", () => {
    const plan = planChanges(planInput({ inventory: world, policyCount: 0 }));
    expect(plan.safety).toEqual({ refused: false, forced: false, reasons: [] });
    expect(plan.applyable).toBe(false);
  });
});

describe("planChanges: external (Spectrum) schemas", () => {
  // aws-facts §6.1: a GRANT or REVOKE on an external schema or its objects cannot run inside a
  // transaction block, and every batch is one. A grant recorded there (the schema was local when it
  // was granted) is forgotten, never revoked in a batch, which would fail the whole batch every run.
  it("forgets a recorded grant in an external schema without SQL, even while it is held", () => {
    const lake: InventoryLike = {
      ...inventory({ tables: { "lake.events": ["id"], "sales.orders": ["id"] }, grantees: ["analyst"] }),
      held: [grant("analyst", "USAGE", "lake"), grant("analyst", "SELECT", "lake.events"), grant("analyst", "USAGE", "sales")],
      externalSchemas: new Set(["lake"]),
    };
    const plan = planChanges(
      planInput({
        recorded: [recorded("analyst", "USAGE", "lake"), recorded("analyst", "SELECT", "lake.events"), recorded("analyst", "USAGE", "sales")],
        inventory: lake,
        managedSchemas: new Set(["sales"]),
      }),
    );
    expect(plan.changes.map((c) => `${c.op} ${c.privilege} ${path(c)}`)).toEqual(["revoke USAGE sales"]);
    expect(stepLines(plan).filter((line) => line.includes("lake")).sort()).toEqual([" | forget lake", " | forget lake.events"]);
  });
});
