import { describe, expect, it } from "vitest";
import type { AccessRow } from "../../src/core/access/access-rows.js";
import { ACCESS_HTML_CSP, accessHtmlChunks } from "../../src/server/access-html.js";

const hostile = `<img src=x onerror=alert(1)>`;
const rows: AccessRow[] = [
  {
    grantee: { kind: "group", name: hostile },
    schema: "sales",
    table: "orders",
    privilege: "SELECT",
    columns: ["id"],
    status: "granted",
    policies: [{ id: "p1", principal: "arn:aws:iam::123456789012:role/analyst", resourceType: "TABLE", expression: `access in (${hostile})`, permissions: ["SELECT"] }],
    tags: [{ key: "access", value: "public", level: "database" }],
  },
  { grantee: { kind: "role", name: "etl" }, schema: "sales", table: null, privilege: "USAGE", columns: null, status: "unexplained", policies: [], tags: [] },
];

describe("access HTML", () => {
  const html = [...accessHtmlChunks(rows, { generatedAt: new Date("2026-12-01T00:00:00Z") })].join("");

  it("escapes every catalog-derived string and admits only its own script", () => {
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;");
    expect(html).toContain(`content="${ACCESS_HTML_CSP.replaceAll("'", "&#39;")}"`);
    expect(html.match(/<script>/g)?.length).toBe(1);
  });

  it("has one row per access row with filter attributes, and the summary counts", () => {
    expect(html.match(/<tr data-testid="access-row"/g)?.length).toBe(2);
    expect(html).toContain(`data-status="unexplained"`);
    expect(html).toMatch(/data-testid="summary-unexplained"><b>1<\/b>/);
    expect(html).toMatch(/data-testid="summary-granted"><b>1<\/b>/);
  });
});
