import { describe, expect, it } from "vitest";
import { API_KEY, harnessPerFile, REPORT_TOKEN } from "./harness.js";

const bearer = { authorization: `Bearer ${REPORT_TOKEN}` };

const file = harnessPerFile({ debounceMs: 0 });

interface AccessJson {
  summary: { rows: number; granted: number; pending: number; unexplained: number };
  policies: { id: string; principal: string; expression: string }[];
  rows: { grantee: { name: string }; schema: string; table: string | null; status: string; policies: string[] }[];
}

describe("GET /access", () => {
  it("needs the report token: no token, a wrong one or the webhook key get 401", async () => {
    expect((await file.h.app.inject({ url: "/access" })).statusCode).toBe(401);
    expect((await file.h.app.inject({ url: "/access", headers: { authorization: "Bearer wrong" } })).statusCode).toBe(401);
    expect((await file.h.app.inject({ url: "/access", headers: { "x-api-key": API_KEY } })).statusCode).toBe(401);
  });

  it("answers JSON with each policy once, filters by grantee, schema and table, and writes nothing", async () => {
    const all = (await file.h.app.inject({ url: "/access", headers: { ...bearer, accept: "application/json" } })).json() as AccessJson;
    expect(all.summary.rows).toBe(all.rows.length);
    expect(all.rows.length).toBeGreaterThan(0);
    // Nothing applied yet: every row is allowed by a policy and pending.
    expect(new Set(all.rows.map((r) => r.status))).toEqual(new Set(["pending"]));
    const ids = new Set(all.policies.map((p) => p.id));
    expect(ids.size).toBe(all.policies.length);
    for (const r of all.rows) for (const id of r.policies) expect(ids.has(id)).toBe(true);
    const engineer = (await file.h.app.inject({ url: "/access?grantee=engineer&format=json", headers: bearer })).json() as AccessJson;
    expect(new Set(engineer.rows.map((r) => r.grantee.name))).toEqual(new Set(["engineer"]));
    const hr = (await file.h.app.inject({ url: "/access?schema=hr&format=json", headers: bearer })).json() as AccessJson;
    expect(new Set(hr.rows.map((r) => r.schema))).toEqual(new Set(["hr"]));
    const again = await file.h.app.inject({ url: "/access", headers: { ...bearer, accept: "application/json" } });
    expect(again.json()).toEqual(all);
  });

  it("answers CSV, text and an HTML page with its own CSP", async () => {
    const csv = await file.h.app.inject({ url: "/access?format=csv", headers: bearer });
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.body.split("\r\n")[0]).toBe("grantee_kind,grantee,schema,table,privilege,columns,status,principals,policies,tags");
    const text = await file.h.app.inject({ url: "/access", headers: { ...bearer, accept: "text/plain" } });
    expect(text.body).toMatch(/Access: \d+ grant\(s\)/);
    const html = await file.h.app.inject({ url: "/access", headers: { ...bearer, accept: "text/html" } });
    expect(html.headers["content-security-policy"]).toMatch(/script-src 'sha256-/);
    expect(html.body).toContain('data-testid="filter-status"');
    expect((await file.h.app.inject({ url: "/access", headers: { ...bearer, accept: "image/png" } })).statusCode).toBe(406);
  });
});
