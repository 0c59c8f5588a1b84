import { describe, expect, it } from "vitest";
import { warning } from "../../src/core/diagnostics.js";
import { planChanges } from "../../src/core/plan.js";
import { filterPlan } from "../../src/server/plan-filter.js";
import { escapeHtml, PLAN_HTML_CSP, renderPlanHtml } from "../../src/server/plan-html.js";
import { desired, group, inventory, planInput, recorded } from "../support/catalog-builders.js";

/** Catalog names are untrusted: each would break out of an attribute or a tag. (No `.`, `(`, `,`: the builders' path syntax.) */
const EVIL_TABLE = "<script>alert`1`</script>";
const EVIL_GROUP = `x" onmouseover="alert(2)`;
const EVIL_COLUMN = "c'><img src=x onerror=alert`3`>";

function samplePlan() {
  return planChanges(
    planInput({
      desired: [
        desired("analyst", "SELECT", "sales.orders", ["policy#1 access in (public)"]),
        desired(EVIL_GROUP, "SELECT", `sales.${EVIL_TABLE}`, [`policy#2 <b>bold</b> & more`]),
        desired("analyst", "SELECT", `hr.employees(${EVIL_COLUMN},id)`, ["policy#3 pii in (false)"]),
        desired("analyst", "SELECT", "sales.not_loaded", ["policy#1 access in (public)"]),
      ],
      recorded: [recorded("bi", "SELECT", "hr.employees", ["policy#9 gone"])],
      inventory: inventory({
        tables: { "sales.orders": ["id"], [`sales.${EVIL_TABLE}`]: ["a"], "hr.employees": ["id", EVIL_COLUMN] },
        grantees: ["analyst", group(EVIL_GROUP), "bi"],
        held: [{ grantee: group("bi"), privilege: "SELECT", object: { schema: "hr", table: "employees", columns: null } }],
      }),
      diagnostics: [warning(`principal <i>arn</i> has no grantee mapping`)],
    }),
  );
}

describe("renderPlanHtml", () => {
  const plan = samplePlan();
  const html = renderPlanHtml(plan, { generatedAt: new Date("2025-01-02T03:04:05Z") });

  it("escapes every catalog-derived string", () => {
    expect(html).not.toContain(EVIL_TABLE);
    expect(html).not.toContain(EVIL_GROUP);
    expect(html).not.toContain(EVIL_COLUMN);
    expect(html).not.toContain("<b>bold</b>");
    expect(html).not.toContain("<i>arn</i>");
    expect(html).toContain(escapeHtml(EVIL_TABLE));
    expect(html).toContain(`data-grantee="${escapeHtml(EVIL_GROUP)}"`);
    expect(html).toContain("policy#2 &#60;b&#62;bold&#60;/b&#62; &#38; more");
    // The only script and style are the page's own: no external asset, nothing catalog-derived inside.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
  });

  it("has one row per change and pending grant, with the hooks the browser test uses", () => {
    expect(plan.changes.length).toBe(4);
    expect(plan.pending.length).toBe(1);
    expect(html.match(/<tr data-testid="change"/g)).toHaveLength(plan.changes.length);
    expect(html.match(/<tr data-testid="pending"/g)).toHaveLength(plan.pending.length);
    expect(html.match(/<li data-testid="warning"/g)).toHaveLength(plan.warnings.length);
    for (const id of ["summary", "filter-grantee", "filter-schema", "visible-count"]) expect(html).toContain(`data-testid="${id}"`);
    expect(html).toContain(`data-testid="change" data-op="revoke" data-grantee="bi" data-schema="hr"`);
    expect(html).toContain("policy#9 gone");
    expect(html).toContain("no policy grants it any more");
    expect(html).toContain(`<time datetime="2025-01-02T03:04:05.000Z">`);
  });

  it("groups changes by schema, then by table, in plan order", () => {
    const headings = [...html.matchAll(/<h3>Schema <code>([^<]*)<\/code><\/h3>/g)].map((m) => m[1]);
    expect(headings).toEqual(["hr", "sales"]);
    const tables = [...html.matchAll(/<tbody data-group><tr><th colspan="4">([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(tables).toEqual(["hr.employees", `sales.${escapeHtml(EVIL_TABLE)}`, "sales.orders"]);
  });

  it("pins its inline style and script in the CSP", () => {
    expect(PLAN_HTML_CSP).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(PLAN_HTML_CSP).toContain("default-src 'none'");
  });

  it("says when there is nothing to do", () => {
    const empty = renderPlanHtml(planChanges(planInput({ inventory: inventory({ tables: {}, grantees: [] }) })));
    expect(empty).toContain("No changes. Redshift grants match Lake Formation.");
    expect(empty).not.toContain(`<tr data-testid="change"`);
  });
});

describe("filterPlan", () => {
  it("keeps one grantee's or one schema's grants and recounts them", () => {
    const plan = samplePlan();
    const analyst = filterPlan(plan, { grantee: "analyst" });
    expect(analyst.changes.every((c) => c.grantee.name === "analyst")).toBe(true);
    expect(analyst.summary.grants).toBe(analyst.changes.length);
    expect(analyst.summary.pending).toBe(1);
    const hr = filterPlan(plan, { schema: "hr" });
    expect(new Set(hr.changes.map((c) => c.object.schema))).toEqual(new Set(["hr"]));
    expect(hr.summary.revokes).toBe(1);
    expect(filterPlan(plan, { grantee: "bi", schema: "sales" }).changes).toEqual([]);
    expect(renderPlanHtml(hr, { filter: { schema: "hr" } })).toContain("Showing only schema <code>hr</code>");
  });
});
