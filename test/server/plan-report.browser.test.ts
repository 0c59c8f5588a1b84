import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogSnapshot } from "../../src/catalog/model.js";
import { serializeSnapshot } from "../../src/catalog/snapshot.js";
import { parseConfig } from "../../src/config/load.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile } from "../../src/run/reconcile.js";
import { openSource, openTarget } from "../../src/run/wiring.js";
import { type RunningServer, startServer } from "../../src/server/serve.js";
import { launchChromium } from "../support/browser.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";

/**
 * GET /plan's HTML report in a real headless Chromium (the system's when installed, else the one
 * the dev dependency @sparticuz/chromium ships: test/support/browser.ts), served over HTTP on 127.0.0.1 by the server as `serve` wires it from a config: a
 * snapshot file as the source, an embedded PGlite database as the target. The JSON plan of the
 * same endpoint is the reference the page is checked against.
 */

const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts");
const TOKEN = "report-token-for-the-browser";

/** Phase one is applied first, so phase two's plan holds grants, revokes, pending and warnings. */
function phaseOne(): CatalogSnapshot {
  const snapshot = catalog({
    databases: [
      database("sales", { access: "internal", domain: "sales", pii: "false" }, [
        table("orders", { access: "public" }, ["order_id", "amount", ["email", { pii: "true" }], "region"]),
        table("customers", {}, ["customer_id", "name", ["phone", { pii: "true" }]]),
        table("not_loaded_yet", {}, ["a"]),
      ]),
      database("hr", { access: "restricted", domain: "hr", pii: "false" }, [table("employees", {}, ["id", "name", ["salary", { pii: "true" }]])]),
    ],
    expressions: { hr_all: { domain: ["hr"] } },
    policies: [
      policy(role("analyst"), "TABLE", { access: ["public", "internal"], pii: ["false"] }, ["SELECT"]),
      policy(role("engineer"), "TABLE", { domain: ["sales"] }, ["SELECT", "INSERT"]),
      policy(role("hr_admin"), "TABLE", "hr_all", ["ALL"]),
    ],
  });
  return { ...snapshot, tags: { access: ["public", "internal", "restricted"], domain: ["sales", "hr"], pii: ["true", "false"] } };
}

/** engineer loses its policy, amount becomes restricted, auditor appears, and an IAM user has no grantee mapping. */
function phaseTwo(): CatalogSnapshot {
  const one = phaseOne();
  const [sales, hr] = one.databases;
  return {
    ...one,
    databases: [
      database("sales", sales!.tags, [table("orders", { access: "public" }, ["order_id", ["amount", { access: "restricted" }], ["email", { pii: "true" }], "region"]), ...sales!.tables.slice(1)]),
      hr!,
    ],
    policies: [
      one.policies[0]!,
      one.policies[2]!,
      policy(role("auditor"), "TABLE", { pii: ["false"] }, ["SELECT"]),
      policy("arn:aws:iam::123456789012:user/bob", "TABLE", { domain: ["sales"] }, ["SELECT"]),
    ],
  };
}

interface JsonGrant {
  readonly privilege: string;
  readonly grantee: { readonly kind: string; readonly name: string };
  readonly object: { readonly schema: string; readonly table: string | null; readonly columns: readonly string[] | null };
}
interface JsonPlan {
  readonly changes: readonly (JsonGrant & { readonly op: string })[];
  readonly pending: readonly JsonGrant[];
  readonly warnings: readonly string[];
  readonly summary: { readonly grants: number; readonly revokes: number; readonly pending: number; readonly unchanged: number };
}

/** A change row as the page shows it (cell texts, the table heading above it) and as the filters see it (data attributes). */
interface Row {
  readonly op: string;
  readonly privilege: string;
  readonly grantee: string;
  readonly heading: string;
  readonly dataGrantee: string;
  readonly dataSchema: string;
}
const rowKey = (r: Row) => Object.values(r).join(" | ");

function expectedRowKey(change: JsonPlan["changes"][number]): string {
  const o = change.object;
  return rowKey({
    op: change.op === "grant" ? "+ GRANT" : "\u2212 REVOKE",
    privilege: `${change.privilege}${o.columns === null ? "" : ` (${o.columns.join(", ")})`}`,
    grantee: `${change.grantee.kind} ${change.grantee.name}`,
    heading: o.table === null ? `schema ${o.schema}` : `${o.schema}.${o.table}`,
    dataGrantee: change.grantee.name,
    dataSchema: o.schema,
  });
}

describe("GET /plan in a headless browser", () => {
  let work: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let plan: JsonPlan;
  const problems: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "lf-sync-plan-report-"));
    const snapshotPath = join(work, "catalog.yaml");
    writeFileSync(snapshotPath, serializeSnapshot(phaseOne(), "yaml"));
    const config = parseConfig(
      {
        source: { kind: "file", path: "catalog.yaml" },
        target: { kind: "pglite", dataDir: "db" },
        safety: { maxRevokes: 500, maxRevokeRatio: 1 },
        server: { host: "127.0.0.1", port: 0, reportToken: TOKEN, webhook: { apiKey: "webhook-key" } },
        logLevel: "silent",
      },
      work,
    );
    const logger = createLogger("silent");
    const setup = await openTarget(config);
    try {
      const grantees = [phaseOne(), phaseTwo()].flatMap((s) => mapEntitlements(resolvePolicies(s), config.mapping, "postgres").grantees);
      const distinctGrantees = [...new Map(grantees.map((g) => [g.name, g])).values()];
      await mirrorCatalog(setup, phaseOne(), distinctGrantees, new Set(["sales.not_loaded_yet"]));
      const first = await reconcile({ config, source: openSource(config), executor: setup, lock: createMemoryLock(), logger, command: "test" });
      expect(first.status).toBe("succeeded");
    } finally {
      await setup.close();
    }
    writeFileSync(snapshotPath, serializeSnapshot(phaseTwo(), "yaml"));
    server = await startServer(config, logger);

    const response = await fetch(`${server.url}/plan`, { headers: { accept: "application/json", authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    plan = (await response.json()) as JsonPlan;

    browser = await launchChromium();
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` }, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
    const loaded = await page.goto(`${server.url}/plan`);
    expect(loaded?.status()).toBe(200);
    expect(loaded?.headers()["content-type"]).toMatch(/^text\/html/);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("the plan under test has grants, revokes, pending grants and warnings", () => {
    expect(plan.summary.grants).toBeGreaterThan(0);
    expect(plan.summary.revokes).toBeGreaterThan(0);
    expect(plan.pending.length).toBeGreaterThan(0);
    expect(plan.warnings.length).toBeGreaterThan(0);
    expect(new Set(plan.changes.map((c) => c.grantee.name)).size).toBeGreaterThan(2);
  });

  it("loads without console errors, failed requests or script errors", () => {
    expect(problems).toEqual([]);
  });

  it("shows the plan's summary counts", async () => {
    const summary = page.getByTestId("summary");
    await expect(summary.isVisible()).resolves.toBe(true);
    const counts = async (kind: string) => Number(await summary.getByTestId(`summary-${kind}`).locator("b").textContent());
    expect({ grants: await counts("grants"), revokes: await counts("revokes"), pending: await counts("pending"), unchanged: await counts("unchanged") }).toEqual({
      grants: plan.summary.grants,
      revokes: plan.summary.revokes,
      pending: plan.summary.pending,
      unchanged: plan.summary.unchanged,
    });
  });

  it("shows every change of the JSON plan as one row, under its table, with its privilege and columns", async () => {
    const rows = await visibleRows(page);
    expect(rows.map(rowKey).sort()).toEqual(plan.changes.map(expectedRowKey).sort());
  });

  it("shows every pending grant and every warning", async () => {
    await expect(page.getByTestId("pending").count()).resolves.toBe(plan.pending.length);
    expect(await page.getByTestId("warning").allTextContents()).toEqual(plan.warnings);
  });

  it("filters by grantee: only that grantee's rows stay visible", async () => {
    const grantee = "auditor";
    const expected = plan.changes.filter((c) => c.grantee.name === grantee);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(plan.changes.length);
    await page.getByTestId("filter-grantee").fill(grantee);
    const rows = await visibleRows(page);
    expect(rows.map(rowKey).sort()).toEqual(expected.map(expectedRowKey).sort());
    await expect(page.getByTestId("visible-count").textContent()).resolves.toContain(`${expected.length} of ${plan.changes.length}`);
    await page.getByTestId("filter-grantee").fill("");
    expect(await visibleRows(page)).toHaveLength(plan.changes.length);
  });

  it("filters by schema, and by both: the other rows are hidden", async () => {
    const bySchema = plan.changes.filter((c) => c.object.schema === "hr");
    expect(bySchema.length).toBeGreaterThan(0);
    expect(bySchema.length).toBeLessThan(plan.changes.length);
    await page.getByTestId("filter-schema").fill("hr");
    expect((await visibleRows(page)).map(rowKey).sort()).toEqual(bySchema.map(expectedRowKey).sort());

    const both = bySchema.filter((c) => c.grantee.name === "auditor");
    expect(both.length).toBeGreaterThan(0);
    await page.getByTestId("filter-grantee").fill("auditor");
    expect((await visibleRows(page)).map(rowKey).sort()).toEqual(both.map(expectedRowKey).sort());

    await page.getByTestId("filter-grantee").fill("");
    await page.getByTestId("filter-schema").fill("");
    expect(await visibleRows(page)).toHaveLength(plan.changes.length);
  });

  it("renders a screenshot of the whole report (test-artifacts/plan-report.png), and narrow and dark variants for review", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.getByTestId("filter-schema").blur();
    const png = await page.screenshot({ path: join(ARTIFACTS, "plan-report.png"), fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, "plan-report-narrow.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: join(ARTIFACTS, "plan-report-dark.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("GET /access: the access view shows every row of the JSON report, and its filters hide the others", async () => {
    const json = (await (await fetch(`${server.url}/access?format=json`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      rows: { grantee: { name: string }; status: string }[];
    };
    const statuses = new Set(json.rows.map((r) => r.status));
    // engineer's policy is gone while its grants are still held: unexplained next to granted rows.
    expect(statuses.has("granted") && statuses.has("unexplained")).toBe(true);
    const view = await page.context().newPage();
    const errors: string[] = [];
    view.on("pageerror", (error) => errors.push(error.message));
    view.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    expect((await view.goto(`${server.url}/access`))?.status()).toBe(200);
    const rows = view.locator('[data-testid="access-row"]');
    expect(await rows.count()).toBe(json.rows.length);
    await view.locator('[data-testid="filter-status"]').selectOption("unexplained");
    expect(await view.locator('[data-testid="access-row"]:visible').count()).toBe(json.rows.filter((r) => r.status === "unexplained").length);
    await view.locator('[data-testid="filter-status"]').selectOption("");
    await view.locator('[data-testid="filter-grantee"]').fill("analyst");
    expect(await view.locator('[data-testid="access-row"]:visible').count()).toBe(json.rows.filter((r) => r.grantee.name.includes("analyst")).length);
    await expect(view.locator('[data-testid="visible-count"]').textContent()).resolves.toMatch(/of \d+ grant\(s\) shown/);
    expect(errors).toEqual([]);
    await view.close();
  });
});

/** The change rows a reader can see, read from the page as displayed. */
async function visibleRows(page: Page): Promise<Row[]> {
  const out: Row[] = [];
  for (const row of await page.getByTestId("change").all()) {
    if (!(await row.isVisible())) continue;
    const cells = await row.locator("td").allInnerTexts();
    out.push({
      op: cells[0]?.trim() ?? "",
      privilege: cells[1]?.trim() ?? "",
      grantee: cells[2]?.trim() ?? "",
      heading: (await row.locator("xpath=ancestor::tbody[1]/tr[1]/th").innerText()).trim(),
      dataGrantee: (await row.getAttribute("data-grantee")) ?? "",
      dataSchema: (await row.getAttribute("data-schema")) ?? "",
    });
  }
  return out;
}
