import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { createReadiness } from "../../src/server/readiness.js";
import type { ReadinessCheck } from "../../src/server/app.js";
import { createPostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { API_KEY, cloudTrailEvent, harnessPerFile, heldAccess, openTestDatabase, phaseTwo, postEvent, REPORT_TOKEN, startHarness, TABLES, waitFor } from "./harness.js";

const bearer = { authorization: `Bearer ${REPORT_TOKEN}` };

/** What /readyz asks; a test swaps it. */
let readiness: () => Promise<readonly ReadinessCheck[]> = async () => [];
const file = harnessPerFile({ debounceMs: 0, checkReady: () => readiness() });

describe("report, run log, health, metrics and OpenAPI routes", () => {

  describe("GET /plan", () => {
    it("answers JSON (DESIGN §4.2) to Accept: application/json, and writes nothing", async () => {
      const before = await heldAccess(file.h.executor);
      const response = await file.h.app.inject({ url: "/plan", headers: { ...bearer, accept: "application/json" } });
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      const plan = response.json() as { changes: { op: string; grantee: { name: string }; object: { schema: string } }[]; summary: { grants: number; revokes: number } };
      // analyst: USAGE on sales and hr, SELECT on hr.employees, a column subset per sales table; engineer: USAGE on sales, SELECT and INSERT per table.
      expect(plan.summary).toMatchObject({ grants: 4 + TABLES * 3, revokes: 0 });
      expect(plan.changes).toHaveLength(plan.summary.grants);
      expect(await heldAccess(file.h.executor)).toEqual(before);
      const second = await file.h.app.inject({ url: "/plan", headers: { ...bearer, accept: "application/json" } });
      expect(second.body).toBe(response.body);
    });

    it("filters by grantee and schema in every format", async () => {
      const json = (await file.h.app.inject({ url: "/plan?grantee=engineer", headers: { ...bearer, accept: "application/json" } })).json() as {
        changes: { grantee: { name: string }; object: { schema: string } }[];
        summary: { grants: number };
      };
      expect(new Set(json.changes.map((c) => c.grantee.name))).toEqual(new Set(["engineer"]));
      expect(json.summary.grants).toBe(1 + TABLES * 2);
      const hr = (await file.h.app.inject({ url: "/plan?schema=hr", headers: { ...bearer, accept: "application/json" } })).json() as typeof json;
      expect(hr.changes.map((c) => `${c.grantee.name} ${c.object.schema}`)).toEqual(["analyst hr", "analyst hr"]);
      const text = (await file.h.app.inject({ url: "/plan?schema=hr&grantee=analyst", headers: { ...bearer, accept: "text/plain" } })).body;
      expect(text).not.toContain("sales");
      expect(text).toContain("Plan: 2 to grant");
      const html = (await file.h.app.inject({ url: "/plan?grantee=engineer", headers: { ...bearer, accept: "text/html" } })).body;
      expect(html.match(/<tr data-testid="change"/g)).toHaveLength(1 + TABLES * 2);
      expect(html).not.toContain('data-grantee="analyst"');
    });

    it("computes one plan for requests that arrive together", async () => {
      const before = file.h.plans.computed;
      const responses = await Promise.all(["application/json", "text/plain", "text/html"].map((accept) => file.h.app.inject({ url: "/plan", headers: { ...bearer, accept } })));
      expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      expect(file.h.plans.computed).toBe(before + 1);
      await file.h.app.inject({ url: "/plan", headers: bearer });
      expect(file.h.plans.computed).toBe(before + 2);
    });

    it("answers terraform-style text to Accept: text/plain", async () => {
      const response = await file.h.app.inject({ url: "/plan", headers: { ...bearer, accept: "text/plain" } });
      expect(response.headers["content-type"]).toMatch(/^text\/plain/);
      expect(response.body).toContain("  # table sales.t00");
      expect(response.body).toContain("  + SELECT (amount, id) ON sales.t00 to group analyst");
      expect(response.body).toMatch(/Plan: \d+ to grant, 0 to revoke/);
    });

    it.each([
      ["a browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
      ["*/*", "*/*"],
      ["no Accept header", undefined],
    ])("answers the HTML report to %s", async (_, accept) => {
      const response = await file.h.app.inject({ url: "/plan", headers: { ...bearer, ...(accept === undefined ? {} : { accept }) } });
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(response.headers["content-security-policy"]).toContain("default-src 'none'");
      expect(response.body).toContain('data-testid="summary"');
      expect(response.body).toContain('data-testid="filter-grantee"');
    });

    it("prefers the type named first among equals, and refuses what it cannot produce", async () => {
      const axios = await file.h.app.inject({ url: "/plan", headers: { ...bearer, accept: "application/json, text/plain, */*" } });
      expect(axios.headers["content-type"]).toMatch(/^application\/json/);
      const png = await file.h.app.inject({ url: "/plan", headers: { ...bearer, accept: "image/png" } });
      expect(png.statusCode).toBe(406);
    });

    it("takes the report token only, never the webhook credentials (issue 13 item 13)", async () => {
      expect((await file.h.app.inject({ url: "/plan", headers: { accept: "text/plain", ...bearer } })).statusCode).toBe(200);
      const webhookKey = await file.h.app.inject({ url: "/plan", headers: { accept: "text/plain", "x-api-key": API_KEY } });
      expect(webhookKey.statusCode).toBe(401);
      expect((await file.h.app.inject({ url: "/runs", headers: { "x-api-key": API_KEY } })).statusCode).toBe(401);
      const wrong = await file.h.app.inject({ url: "/plan", headers: { authorization: "Bearer nope" } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers["www-authenticate"]).toBe('Bearer realm="lf-redshift-sync"');
      expect((await file.h.app.inject({ url: "/plan" })).statusCode).toBe(401);
    });

    it("answers 400 naming a bad query parameter", async () => {
      const response = await file.h.app.inject({ url: "/plan?grantee=", headers: bearer });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^querystring\.grantee: /) });
    });
  });

  describe("GET /runs", () => {
    it("lists runs newest first and shows one run; 404 for an unknown id", async () => {
      await postEvent(file.h.url, cloudTrailEvent("GrantPermissions", { id: "runs-1" }));
      await waitFor(() => file.h.runs.length === 1);
      file.h.holder.snapshot = phaseTwo();
      await postEvent(file.h.url, cloudTrailEvent("GrantPermissions", { id: "runs-2" }));
      await waitFor(() => file.h.runs.length === 2);
      const list = await file.h.app.inject({ url: "/runs?limit=5", headers: bearer });
      expect(list.statusCode).toBe(200);
      const runs = (list.json() as { runs: { runId: string; status: string }[] }).runs;
      expect(runs.map((r) => r.runId)).toEqual([file.h.runs[1]!.runId, file.h.runs[0]!.runId]);
      expect(runs.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
      expect(((await file.h.app.inject({ url: "/runs?limit=1", headers: bearer })).json() as { runs: unknown[] }).runs).toHaveLength(1);
      const one = await file.h.app.inject({ url: `/runs/${file.h.runs[0]!.runId}`, headers: bearer });
      expect(one.json()).toMatchObject({ runId: file.h.runs[0]!.runId, status: "succeeded" });
      const missing = await file.h.app.inject({ url: "/runs/no-such-run", headers: bearer });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual({ code: "NOT_FOUND", message: "no run no-such-run in the run log" });
      expect((await file.h.app.inject({ url: "/runs?limit=0", headers: bearer })).statusCode).toBe(400);
      expect((await file.h.app.inject({ url: "/runs" })).statusCode).toBe(401);
    });
  });

  it("GET /healthz answers without credentials", async () => {
    const response = await file.h.app.inject({ url: "/healthz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  it("GET /metrics exposes the run, change, failure, webhook and queue metrics", async () => {
    const response = await file.h.app.inject({ url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain/);
    for (const name of [
      "lfsync_run_duration_seconds_bucket",
      "lfsync_changes_applied_total",
      "lfsync_run_failures_total",
      "lfsync_last_success_timestamp_seconds",
      "lfsync_webhook_events_total",
      "lfsync_run_queue_depth",
    ]) {
      expect(response.body).toContain(name);
    }
    expect(response.body).toMatch(/lfsync_changes_applied_total\{op="grant"\} [1-9]/);
  });

  it("GET /openapi.json documents every route with its security", async () => {
    const doc = (await file.h.app.inject({ url: "/openapi.json" })).json() as {
      openapi: string;
      paths: Record<string, Record<string, { summary?: string; security: unknown[]; parameters?: { name: string; in: string }[]; requestBody?: unknown }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(["/access", "/healthz", "/metrics", "/openapi.json", "/plan", "/readyz", "/runs", "/runs/{id}", "/webhooks/lakeformation"]);
    for (const methods of Object.values(doc.paths)) for (const op of Object.values(methods)) expect(op.summary).toBeTruthy();
    const webhook = doc.paths["/webhooks/lakeformation"]!.post!;
    expect(webhook.security).toEqual([{ apiKey: [] }, { basic: [] }]);
    expect(JSON.stringify(webhook.requestBody)).toContain('"detail-type"');
    expect(doc.paths["/plan"]!.get!.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["query:grantee", "query:schema", "query:refresh"]);
    expect(doc.paths["/runs/{id}"]!.get!.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["path:id"]);
    expect(doc.paths["/healthz"]!.get!.security).toEqual([]);
  });

  it("answers 404 as JSON for an unknown route", async () => {
    const response = await file.h.app.inject({ url: "/nope" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("GET /readyz", () => {
  it("probes at most once per server.readyCacheMs, however many callers ask", async () => {
    let probes = 0;
    const cachedDb = await openTestDatabase();
    const cachedApp = await startHarness({
      executor: cachedDb,
      server: { readyCacheMs: 60_000 },
      checkReady: async () => {
        probes++;
        return [{ name: "target", ok: true }];
      },
    });
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => cachedApp.app.inject({ url: "/readyz" })));
      expect(answers.every((a) => a.statusCode === 200)).toBe(true);
      await cachedApp.app.inject({ url: "/readyz" });
      expect(probes).toBe(1);
    } finally {
      await cachedApp.close();
      await cachedDb.close();
    }
  });

  it("is ready when source, target and lease answer, and says what failed otherwise", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lfsync-readyz-"));
    // Nothing listens on port 1: a real client, a real refusal.
    const unreachable = createPostgresExecutor("postgres://lfsync:x@127.0.0.1:1/none");
    try {
      const catalogPath = join(dir, "catalog.yaml");
      await writeFile(catalogPath, "databases: []\npolicies: []\n");
      const config = (path: string) => configSchema.parse({ source: { kind: "file", path }, target: { kind: "pglite" } });
      const ok = createReadiness(config(catalogPath), file.h.executor);
      readiness = () => ok.check();
      const good = await file.h.app.inject({ url: "/readyz", headers: bearer });
      expect(good.statusCode).toBe(200);
      expect(good.json()).toEqual({ status: "ready", checks: [{ name: "source", ok: true }, { name: "target", ok: true }, { name: "lease", ok: true }] });

      const missing = createReadiness(config(join(dir, "gone.yaml")), file.h.executor);
      readiness = () => missing.check();
      const bad = await file.h.app.inject({ url: "/readyz", headers: bearer });
      expect(bad.statusCode).toBe(503);
      const body = bad.json() as { status: string; checks: { name: string; ok: boolean; message?: string }[] };
      expect(body.status).toBe("not ready");
      expect(body.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["source"]);
      expect(body.checks[0]!.message).toContain("ENOENT");
      // Without the report token: which part is down, never why.
      const anonymous = (await file.h.app.inject({ url: "/readyz" })).json() as typeof body;
      expect(anonymous.checks).toEqual([{ name: "source", ok: false }, { name: "target", ok: true }, { name: "lease", ok: true }]);

      const down = createReadiness(config(catalogPath), unreachable);
      readiness = () => down.check();
      const noTarget = await file.h.app.inject({ url: "/readyz", headers: bearer });
      expect(noTarget.statusCode).toBe(503);
      const checks = (noTarget.json() as typeof body).checks;
      expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["target"]);
      expect(checks[1]!.message).not.toContain(":x@");
    } finally {
      await unreachable.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
