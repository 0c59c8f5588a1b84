import { describe, expect, it } from "vitest";
import type { DesiredGrant } from "../../src/core/grants.js";
import { planChanges } from "../../src/core/plan.js";
import { planJsonChunks, planJsonText, planSummaryText, planText, planTextChunks } from "../../src/core/plan-report.js";
import type { PolicyRef } from "../../src/core/policy-ref.js";
import { terminalText } from "../../src/core/terminal-text.js";
import { desired, group, inventory, planInput } from "../support/catalog-builders.js";

/** The hardening review's catalog (issue 13 item 5): one expression of 1,000 values x 250 characters over 2,200 tables. */
function hugePolicyPlan() {
  const values = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, "0")}${"v".repeat(246)}`);
  const policy: PolicyRef = { id: "p-huge", principal: "arn:aws:iam::123456789012:role/analyst", resourceType: "TABLE", expression: `Access in (${values.join(", ")})`, permissions: ["SELECT"] };
  const tables: Record<string, string[]> = {};
  const wanted: DesiredGrant[] = [desired("analyst", "USAGE", "sales", [policy.id])];
  for (let t = 0; t < 2200; t++) {
    tables[`sales.t${t}`] = ["id"];
    wanted.push(desired("analyst", "SELECT", `sales.t${t}`, [policy.id]));
  }
  return { policy, plan: planChanges(planInput({ desired: wanted, inventory: inventory({ tables, grantees: ["analyst"] }), policies: [policy] })) };
}

describe("plan output: each policy listed once, streamed", () => {
  it("JSON lists the policy once and each change refers to it by id (DESIGN §4.2)", () => {
    const { policy, plan } = hugePolicyPlan();
    const chunks = [...planJsonChunks(plan)];
    const text = chunks.join("");
    expect(text.length).toBeLessThan(policy.expression.length + 2200 * 300);
    expect(text.split(policy.expression)).toHaveLength(2);
    const json = JSON.parse(text) as { policies: PolicyRef[]; changes: { because: string[] }[]; summary: { grants: number } };
    expect(json.policies).toEqual([policy]);
    expect(json.changes).toHaveLength(2201);
    expect(json.changes.every((c) => c.because.length === 1 && c.because[0] === "p-huge")).toBe(true);
    // Chunks stay small, except one that carries the expression itself: nothing is joined whole.
    expect(chunks.filter((c) => c.length > 128 * 1024)).toHaveLength(1);
  });

  it("text lists the policy once under Policies and names it by id in each change", () => {
    const { policy, plan } = hugePolicyPlan();
    const text = [...planTextChunks(plan)].join("");
    expect(text.split(policy.expression)).toHaveLength(2);
    expect(text).toContain("\nPolicies:\n  p-huge: arn:aws:iam::123456789012:role/analyst TABLE Access in (0000vvv");
    expect(text).toContain("  + SELECT ON sales.t0 to group analyst\n      granted by p-huge\n");
    expect(text.endsWith(`\n${planSummaryText(plan)}\n`)).toBe(true);
  });

  it("keeps labels that are not policy ids (grants recorded before policy ids) as text", () => {
    const plan = planChanges(
      planInput({ desired: [desired("analyst", "SELECT", "sales.orders", ["policy#3 Access in (public)"])], inventory: inventory({ tables: { "sales.orders": ["id"] }, grantees: ["analyst"] }) }),
    );
    expect(planText(plan)).toContain("granted by policy#3 Access in (public)");
    expect((JSON.parse(planJsonText(plan)) as { policies: unknown[] }).policies).toEqual([]);
  });
});

describe("terminal output: control and bidi characters in names are escaped (issue 13 item 12)", () => {
  it.each([
    ["an ANSI escape that clears the screen", "evil\u001b[2Jname", "evil\\x1b[2Jname"],
    ["a carriage return that rewrites the line", "ok\rrevoked", "ok\\x0drevoked"],
    ["a right-to-left override (Trojan Source)", "sales\u202eredro", "sales\\u202eredro"],
    ["a bidi isolate", "a\u2066b\u2069", "a\\u2066b\\u2069"],
    ["a C1 control (CSI)", "a\u009bb", "a\\x9bb"],
    ["a backslash, doubled so an escape cannot be forged", "a\\x1bb", "a\\\\x1bb"],
    ["plain unicode, untouched", "ünïcødé 表", "ünïcødé 表"],
  ])("%s", (_, raw, shown) => {
    expect(terminalText(raw)).toBe(shown);
  });

  it("escapes every catalog-derived name in the text plan (schema, table, column, grantee, because, pending)", () => {
    const bad = "x\u001b]0;pwned\u0007\u202e";
    const plan = planChanges(
      planInput({
        desired: [
          { grantee: group(bad), privilege: "SELECT", object: { schema: bad, table: bad, columns: [bad] }, because: [bad] },
          { grantee: group(bad), privilege: "SELECT", object: { schema: "nope", table: "t", columns: null }, because: [bad] },
        ],
        inventory: inventory({ tables: {}, grantees: [] }),
      }),
    );
    const withTable = planChanges(
      planInput({
        desired: [{ grantee: group(bad), privilege: "SELECT", object: { schema: bad, table: bad, columns: [bad] }, because: [bad] }],
        inventory: { ...inventory({ tables: {}, grantees: [group(bad)] }), schemas: new Set([bad]), tables: new Map([[`${bad}\u0000${bad}`, new Set([bad])]]) },
      }),
    );
    for (const text of [planText(plan), planText(withTable, { color: true })]) {
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(text).toContain("x\\x1b]0;pwned\\x07\\u202e");
    }
    expect(planText(withTable)).toContain("+ SELECT (x\\x1b]0;pwned\\x07\\u202e) ON x\\x1b");
  });
});
