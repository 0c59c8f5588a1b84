import { describe, expect, it } from "vitest";
import type { DatabaseEntry, PolicyEntry } from "../../src/catalog/model.js";
import type { MappingConfig } from "../../src/config/schema.js";
import type { DesiredGrant, Dialect, Grant, RecordedGrant } from "../../src/core/grants.js";
import { planScoped, scopedDesired } from "../../src/core/incremental/replan.js";
import { mapEntitlements } from "../../src/core/map.js";
import { planChanges } from "../../src/core/plan.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { catalog, database, defaultMapping, inventory, planInput, policy, role, table } from "../support/catalog-builders.js";

/**
 * Two different Glue objects on one Redshift object (a rename, a rename onto an existing database,
 * names that fold to one): their grants would merge, and a grantee Lake Formation allows on one would
 * hold the other. Nothing is granted on such an object, and each collision is an error.
 */

const analyst = role("analyst");
const publicSelect = policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"]);
const publicCreate = policy(analyst, "DATABASE", { access: ["public"] }, ["DESCRIBE", "CREATE_TABLE"]);
const open = (name: string, tables: readonly string[]) => database(name, { access: "public" }, tables.map((t) => table(t, {}, ["id"])));
const closed = (name: string, tables: readonly string[]) => database(name, { access: "restricted" }, tables.map((t) => table(t, {}, ["id"])));

/** `group analyst SELECT x.t`, sorted. */
function grantLines(grants: readonly Grant[]): string[] {
  return grants.map((g) => `${g.grantee.kind} ${g.grantee.name} ${g.privilege} ${g.object.schema}${g.object.table === null ? "" : `.${g.object.table}`}`).sort();
}

/** A mapping as the core may receive it, past any config check. */
function withRename(rename: Record<string, string>, overrides: Record<string, unknown> = {}): MappingConfig {
  const mapping = defaultMapping(overrides);
  return { ...mapping, databases: { ...mapping.databases, rename } };
}

interface Row {
  readonly situation: string;
  readonly databases: readonly DatabaseEntry[];
  readonly policies?: readonly PolicyEntry[];
  readonly mapping?: MappingConfig;
  readonly dialect?: Dialect;
  readonly grants: readonly string[];
  /** Every error the mapper reports, in order. */
  readonly errors: readonly RegExp[];
}

const rows: readonly Row[] = [
  {
    situation: "rename a -> X, b -> x (redshift folds X): the table both hold gets nothing, nor the schema from DATABASE policies",
    databases: [open("a", ["t", "u"]), closed("b", ["t"])],
    mapping: withRename({ a: "X", b: "x" }),
    grants: ["group analyst SELECT x.u", "group analyst USAGE x"],
    errors: [/^databases a, b all map to schema x in the warehouse: /, /^tables a\.t, b\.t all map to x\.t in the warehouse: /],
  },
  {
    situation: "rename a -> x, b -> x (postgres, a mapping past the config check)",
    databases: [open("a", ["t", "u"]), closed("b", ["t"])],
    mapping: withRename({ a: "x", b: "x" }),
    dialect: "postgres",
    grants: ["group analyst SELECT x.u", "group analyst USAGE x"],
    errors: [/^databases a, b all map to schema x in the warehouse: /, /^tables a\.t, b\.t all map to x\.t in the warehouse: /],
  },
  {
    situation: "rename a -> b while Glue database b exists: b.t is a.t and b.t at once",
    databases: [open("a", ["t"]), closed("b", ["t", "v"])],
    mapping: withRename({ a: "b" }),
    grants: [],
    errors: [/^databases a, b all map to schema b in the warehouse: /, /^tables a\.t, b\.t all map to b\.t in the warehouse: /],
  },
  {
    situation: "rename a -> b while an empty Glue database b exists: no schema grant on b",
    databases: [open("a", ["t"]), closed("b", [])],
    mapping: withRename({ a: "b" }),
    grants: ["group analyst SELECT b.t", "group analyst USAGE b"],
    errors: [/^databases a, b all map to schema b in the warehouse: /],
  },
  {
    situation: "rename a -> b, b -> a (a swap): no collision",
    databases: [open("a", ["t"]), closed("b", ["t"])],
    mapping: withRename({ a: "b", b: "a" }),
    grants: ["group analyst CREATE b", "group analyst SELECT b.t", "group analyst USAGE b"],
    errors: [],
  },
  {
    situation: "rename a -> b with b excluded: b is not mapped, no collision",
    databases: [open("a", ["t"]), closed("b", ["t"])],
    mapping: withRename({ a: "b" }, { databases: { exclude: ["b"] } }),
    grants: ["group analyst CREATE b", "group analyst SELECT b.t", "group analyst USAGE b"],
    errors: [],
  },
  {
    situation: "databases Sales and sales (redshift folds both to sales): nothing on sales.orders, no schema grant",
    databases: [open("Sales", ["orders"]), closed("sales", ["orders", "items"])],
    grants: [],
    errors: [/^databases Sales, sales all map to schema sales in the warehouse: /, /^tables Sales\.orders, sales\.orders all map to sales\.orders in the warehouse: /],
  },
  {
    situation: "databases Sales and sales (postgres keeps quoted names): two schemas",
    databases: [open("Sales", ["orders"]), closed("sales", ["orders", "items"])],
    dialect: "postgres",
    grants: ["group analyst CREATE Sales", "group analyst SELECT Sales.orders", "group analyst USAGE Sales"],
    errors: [],
  },
  {
    situation: "three databases on one schema (A, a, and b renamed to a): each named once",
    databases: [open("A", ["t"]), open("a", ["t"]), closed("b", ["t", "u"])],
    mapping: withRename({ b: "a" }),
    grants: [],
    errors: [/^databases A, a, b all map to schema a in the warehouse: /, /^tables A\.t, a\.t, b\.t all map to a\.t in the warehouse: /],
  },
];

describe("mapEntitlements: two Glue objects on one Redshift object get nothing", () => {
  it.each(rows)("$situation", (row) => {
    const snapshot = catalog({ databases: row.databases, policies: row.policies ?? [publicSelect, publicCreate] });
    const state = mapEntitlements(resolvePolicies(snapshot), row.mapping ?? defaultMapping(), row.dialect ?? "redshift");
    expect(grantLines(state.grants)).toEqual([...row.grants].sort());
    const errors = state.diagnostics.filter((d) => d.severity === "error").map((d) => d.summary);
    expect(errors, errors.join("\n")).toHaveLength(row.errors.length);
    row.errors.forEach((pattern, i) => expect(errors[i]).toMatch(pattern));
    expect(state.diagnostics.filter((d) => d.severity !== "error")).toEqual([]);
  });
});

describe("a collision that appears revokes what was granted there", () => {
  const before = catalog({ databases: [open("a", ["t", "u"])], policies: [publicSelect, publicCreate] });
  const after = catalog({ databases: [open("a", ["t", "u"]), closed("b", ["t"])], policies: [publicSelect, publicCreate] });
  const mapping = withRename({ b: "a" });
  const target = () => inventory({ tables: { "a.t": ["id"], "a.u": ["id"] }, grantees: ["analyst"] });
  const applied = (grants: readonly DesiredGrant[]): { held: Grant[]; recorded: RecordedGrant[] } => ({
    held: grants.map((g) => ({ grantee: g.grantee, privilege: g.privilege, object: g.object })),
    recorded: grants.map((g) => ({ ...g, runId: "run-0" })),
  });

  it("full plan: SELECT on a.t and CREATE on a are revoked; a.u and USAGE stay", () => {
    const first = mapEntitlements(resolvePolicies(before), mapping, "redshift");
    expect(grantLines(first.grants)).toEqual(["group analyst CREATE a", "group analyst SELECT a.t", "group analyst SELECT a.u", "group analyst USAGE a"]);
    const { held, recorded } = applied(first.grants);
    const next = mapEntitlements(resolvePolicies(after), mapping, "redshift");
    const plan = planChanges(planInput({ desired: next.grants, recorded, inventory: { ...target(), held } }));
    expect(plan.changes.map((c) => `${c.op} ${grantLines([c])[0]}`).sort()).toEqual(["revoke group analyst CREATE a", "revoke group analyst SELECT a.t"]);
  });

  it("incremental run of the event that adds b.t: the same revokes", () => {
    const first = mapEntitlements(resolvePolicies(before), mapping, "redshift");
    const { held, recorded } = applied(first.grants);
    const scope = { databases: new Map<string, "all" | ReadonlySet<string>>([["b", new Set(["t"])]]) };
    const scoped = scopedDesired(after, scope, mapping, "redshift");
    expect(scoped.diagnostics.map((d) => d.summary).join("\n")).toMatch(/tables a\.t, b\.t all map to a\.t in the warehouse/);
    const safety = planInput({ inventory: target() }).safety;
    const plan = planScoped({ scoped, recorded, inventory: { ...target(), held }, dialect: "redshift", policyCount: 2, safety, recordedTotal: recorded.length });
    expect(plan.changes.map((c) => `${c.op} ${grantLines([c])[0]}`).sort()).toEqual(["revoke group analyst CREATE a", "revoke group analyst SELECT a.t"]);
  });
});
