import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../../src/core/diagnostics.js";
import { mapEntitlements } from "../../../src/core/map.js";
import { planChanges } from "../../../src/core/plan.js";
import { listedColumns, narrowToListedColumns } from "../../../src/core/plan/unlisted-columns.js";
import { resolvePolicies } from "../../../src/core/resolve.js";
import { catalog, database, defaultMapping, inventory, planInput, policy, role, table } from "../../support/catalog-builders.js";

/** Issue 13 item 3: Glue lists secrets(id); the target table also has ssn, which Lake Formation never saw. */
function planFor(targetColumns: readonly string[]) {
  const snapshot = catalog({
    databases: [database("sales", { access: "internal" }, [table("secrets", {}, ["id"])])],
    policies: [policy(role("analyst"), "TABLE", { access: ["internal"] }, ["SELECT", "INSERT"])],
  });
  const mapping = defaultMapping();
  const desired = mapEntitlements(resolvePolicies({ ...snapshot, tags: { access: ["internal"] } }), mapping, "redshift");
  const inv = inventory({ tables: { "sales.secrets": targetColumns }, grantees: ["analyst"] });
  const narrowed = narrowToListedColumns(desired.columns, desired.registry, inv, listedColumns(snapshot, mapping, "redshift"));
  const plan = planChanges(planInput({ desired: narrowed.desired, registry: desired.registry, inventory: inv, diagnostics: narrowed.diagnostics }));
  return { plan, diagnostics: narrowed.diagnostics.map(formatDiagnostic) };
}

const lines = (p: ReturnType<typeof planFor>["plan"]) =>
  p.changes.map((c) => `${c.op} ${c.privilege}${c.object.columns === null ? "" : `(${c.object.columns.join(",")})`} ${c.object.schema}${c.object.table === null ? "" : `.${c.object.table}`}`);

describe("columns the catalog does not list", () => {
  it("never grants the whole table: SELECT on the listed columns only, INSERT dropped, and a warning naming ssn", () => {
    const { plan, diagnostics } = planFor(["id", "ssn"]);
    expect(lines(plan)).toEqual(["grant USAGE sales", "grant SELECT(id) sales.secrets"]);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatch(/sales\.secrets: the target has column\(s\) ssn that the catalog does not list/);
    expect(plan.warnings.join("\n")).toContain("ssn");
  });

  it("grants the whole table when the target has exactly the listed columns", () => {
    const { plan, diagnostics } = planFor(["id"]);
    expect(lines(plan)).toEqual(["grant USAGE sales", "grant INSERT sales.secrets", "grant SELECT sales.secrets"]);
    expect(diagnostics).toEqual([]);
  });

  it("grants nothing on the table when none of the target's columns is listed", () => {
    const { plan } = planFor(["ssn"]);
    expect(lines(plan)).toEqual(["grant USAGE sales"]);
  });
});
