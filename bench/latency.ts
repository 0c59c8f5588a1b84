/**
 * Event -> applied latency and the cost of a full read (issue 11), end to end through the real
 * parts: the server (`startServer`: webhook, run queue, event runner, reconcile), the real Lake
 * Formation and Glue SDK clients against the local catalog endpoint
 * (test/support/aws-catalog-endpoint.ts, which counts every call), and the redshift dialect through
 * the local Data API endpoint in Redshift mode on a real PostgreSQL server.
 *
 * Per size: (1) one full read of the source alone, its calls counted; (2) the warehouse's first
 * apply, a full run the server starts (it also fills the snapshot that events patch); (3) one tag
 * change on one table (AddLFTagsToResource) and (4) one policy change (GrantPermissions on an LF-tag
 * policy): the catalog changes at the endpoint, the CloudTrail event is POSTed to the webhook, and
 * the clock stops when the run queue is idle again. The webhook's debounce (server.debounceMs,
 * default 5 s) is part of the latency and printed apart.
 *
 * Above MANAGE_ALL_UP_TO tables the first apply through the emulated Data API would take hours
 * (~0.5 s a batch, ~13k batches at 100k), so the service manages one schema only
 * (`mapping.databases.include: [db_000]`, 1/20 of the tables, set up by the same real first apply)
 * while it reads and plans the whole catalog: the events change db_000, and an incremental run's
 * target reads cover that schema only either way. The full read's cost is counted during the first
 * full run there, not in a read of its own.
 */
import type { CatalogSnapshot, PolicyEntry } from "../src/catalog/model.js";
import { createAwsSource } from "../src/catalog/aws-source.js";
import { parseConfig } from "../src/config/load.js";
import type { Config } from "../src/config/schema.js";
import { mappingSchema } from "../src/config/schema.js";
import { mapEntitlements } from "../src/core/map.js";
import { resolvePolicies } from "../src/core/resolve.js";
import { startServer, type RunningServer } from "../src/server/serve.js";
import { startCatalogEndpoint, type CatalogEndpoint } from "../test/support/aws-catalog-endpoint.js";
import { startLocalDataApi, type LocalDataApi } from "../test/support/data-api-server.js";
import { startLocalSts } from "../test/support/sts-endpoint.js";
import { GROUP_PREFIX } from "../test/support/data-api/redshift/identities.js";
import { createTestDatabase, startPostgres } from "../test/support/postgres.js";
import { pino } from "pino";
import { roleScript, runScript, tableScript } from "./catalog-setup.js";
import { generateCatalog } from "./generate.js";
import { catalogOptions } from "./run-phase.js";

const ACCOUNT = "123456789012";
const API_KEY = "bench-webhook-key";
const MANAGE_ALL_UP_TO = 20_000;

/** The server's log lines (pino JSON), kept to print why a run was full and where an incremental run's time went. */
const logLines: Record<string, unknown>[] = [];
const logTap = {
  write(line: string): void {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if ((entry.level as number) >= 50) process.stderr.write(line);
    logLines.push(entry);
  },
};

/** What the server logged about the runs since `from`: an incremental run's phase times, a full run's reason. */
function runNotes(from: number): string {
  const notes: string[] = [];
  for (const entry of logLines.slice(from)) {
    const msg = String(entry.msg);
    if (msg.startsWith("incremental run ") && entry.timings !== undefined) notes.push(`incremental phases (ms) ${JSON.stringify(entry.timings)}, ${String(entry.tables)} tables in scope`);
    else if (msg === "full run" || msg.startsWith("incremental run handed over")) notes.push(`${msg}: ${String(entry.reason)}`);
  }
  return notes.join("; ");
}
const REPORT_TOKEN = "bench-report-token";

export async function latencyBench(tables: number): Promise<void> {
  console.log(`\n== event -> applied latency, local LF/Glue endpoint + Data API endpoint (redshift) (${tables} tables x 20 columns, 500 policies, 200 principals) ==`);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" });
  const snapshot = generateCatalog(catalogOptions(tables));
  // The server checks at start-up that it reads as a Lake Formation read-only administrator (STS GetCallerIdentity, then GetDataLakeSettings).
  const sts = await startLocalSts(ACCOUNT);
  const catalog = await startCatalogEndpoint(snapshot, { readOnlyAdmins: [`arn:aws:iam::${ACCOUNT}:role/caller`] });
  const postgres = await startPostgres();
  let api: LocalDataApi | undefined;
  let server: RunningServer | undefined;
  const managed = tables <= MANAGE_ALL_UP_TO ? ["*"] : [snapshot.databases[0]!.name];
  try {
    if (tables <= MANAGE_ALL_UP_TO) await fullReadCost(catalog, snapshot);
    const url = await createTestDatabase(postgres.url);
    let started = performance.now();
    await createWarehouse(url, snapshot, managed);
    const managedTables = snapshot.databases.filter((d) => managed.includes("*") || managed.includes(d.name)).reduce((n, d) => n + d.tables.length, 0);
    console.log(`set-up: ${managedTables} tables in ${managed.join(", ")} created in PostgreSQL directly (not measured): ${ms(started)}`);
    api = await startLocalDataApi({ pgUrl: url, mode: "redshift" });
    const config = benchConfig({ catalog: catalog.url, dataApi: api.endpoint, sts: sts.url }, managed);
    server = await startServer(config, pino({ level: "info" }, logTap));
    const running = server;

    catalog.resetCounts();
    started = performance.now();
    running.app.runQueue.enqueue("schedule");
    await running.app.runQueue.idle();
    if (!(await lastRun(running)).includes(" succeeded")) throw new Error(`the first apply failed: ${await lastRun(running)}`);
    const read = catalog.totals();
    console.log(
      `first apply (a full run the server starts, real code path; managed: ${managed.join(", ")}): ${ms(started)}; ${await lastRun(running)}; ` +
        `its full read: ${read.lakeFormation} Lake Formation + ${read.glue} Glue calls ${JSON.stringify(Object.fromEntries(catalog.counts))}`,
    );

    const [db] = snapshot.databases;
    const table = db!.tables[0]!;
    const value = table.tags.access === "access_0" ? "access_1" : "access_0";
    const target = api;
    await measure("one tag change on one table (AddLFTagsToResource)", { server: running, catalog, api: target, config }, () => {
      catalog.assignTableTags(db!.name, table.name, { access: value });
      return cloudTrail("AddLFTagsToResource", { catalogId: snapshot.catalogId, resource: { table: { databaseName: db!.name, name: table.name } }, lFTags: [{ tagKey: "access", tagValues: [value] }] });
    });
    const policy: PolicyEntry = { principal: "arn:aws:iam::123456789012:role/bench_role_0000", resourceType: "TABLE", expression: { domain: ["domain_0"], access: [value] }, permissions: ["SELECT"] };
    await measure("one policy change (GrantPermissions on an LF-tag policy)", { server: running, catalog, api: target, config }, () => {
      catalog.grantPolicy(policy);
      return cloudTrail("GrantPermissions", {
        principal: { dataLakePrincipalIdentifier: policy.principal },
        resource: { lFTagPolicy: { resourceType: "TABLE", expression: [{ tagKey: "domain", tagValues: ["domain_0"] }, { tagKey: "access", tagValues: [value] }] } },
        permissions: ["SELECT"],
      });
    });
  } finally {
    await server?.stop();
    await api?.stop();
    await postgres.stop();
    await catalog.close();
    await sts.close();
  }
}

async function fullReadCost(catalog: CatalogEndpoint, snapshot: CatalogSnapshot): Promise<void> {
  const source = createAwsSource(benchConfig({ catalog: catalog.url, dataApi: "http://127.0.0.1:1", sts: "http://127.0.0.1:1" }, ["*"]).source as Extract<Config["source"], { kind: "aws" }>);
  catalog.resetCounts();
  const started = performance.now();
  const { snapshot: read } = await source.read();
  const tables = read.databases.reduce((n, d) => n + d.tables.length, 0);
  const { lakeFormation, glue } = catalog.totals();
  console.log(
    `full read: ${tables} tables in ${read.databases.length} databases, ${ms(started)} at the local endpoint (no network latency); ` +
      `${lakeFormation} Lake Formation calls + ${glue} Glue calls: ${JSON.stringify(Object.fromEntries(catalog.counts))}`,
  );
  if (tables !== snapshot.databases.reduce((n, d) => n + d.tables.length, 0)) throw new Error("the full read missed tables");
  const estimate = (perCallMs: number) => (((lakeFormation + glue) / 8) * perCallMs) / 1000;
  console.log(`  at concurrency 8 and 50 / 100 ms a call (no throttling): ~${estimate(50).toFixed(0)} s / ~${estimate(100).toFixed(0)} s`);
}

interface Parts {
  readonly server: RunningServer;
  readonly catalog: CatalogEndpoint;
  readonly api: LocalDataApi;
  readonly config: Config;
}

async function measure(what: string, { server, catalog, api, config }: Parts, change: () => unknown): Promise<void> {
  const before = await runsByKind(server);
  const event = change();
  catalog.resetCounts();
  await api.reset();
  const logFrom = logLines.length;
  const started = performance.now();
  const response = await fetch(`${server.url}/webhooks/lakeformation`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": API_KEY }, body: JSON.stringify(event) });
  if (response.status !== 202) throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
  await server.app.runQueue.idle();
  const total = performance.now() - started;
  const after = await runsByKind(server);
  const kinds = Object.keys(after).filter((k) => (after[k] ?? 0) > (before[k] ?? 0));
  const { lakeFormation, glue } = catalog.totals();
  const calls = JSON.stringify(Object.fromEntries(catalog.counts));
  const debounce = config.server?.debounceMs ?? 0;
  const m = api.metrics();
  console.log(
    `${what}: ${(total / 1000).toFixed(2)} s event -> applied (debounce ${(debounce / 1000).toFixed(1)} s + run ${((total - debounce) / 1000).toFixed(2)} s), ` +
      `run kind ${kinds.join("+") || "?"}; ${lakeFormation} Lake Formation + ${glue} Glue calls ${calls}; ${await lastRun(server)}; ` +
      `Data API: ${m.submitCalls} submit, ${m.describeCalls} describe, ${m.resultCalls} result calls, ${m.statements} statements, largest result ${m.largestResultRows} rows; ` +
      runNotes(logFrom),
  );
  // Up to MANAGE_ALL_UP_TO tables: a full plan afterwards must find nothing left to do (incremental = full).
  console.log(`  then: ${config.mapping.databases.include.includes("*") ? await fullPlanSummary(server) : "full-plan check skipped (a full read at this size takes minutes)"}`);
}

function benchConfig(urls: { readonly catalog: string; readonly dataApi: string; readonly sts: string }, managed: readonly string[]): Config {
  return parseConfig(
    {
      source: { kind: "aws", region: "us-east-1", catalogId: ACCOUNT, lakeFormationEndpoint: urls.catalog, glueEndpoint: urls.catalog, stsEndpoint: urls.sts },
      target: { kind: "data-api", endpoint: urls.dataApi, region: "us-east-1", workgroupName: "bench", database: "dev", dialect: "redshift", pollIntervalMs: 10 },
      // GET /plan?refresh=1 (the check) reads the whole catalog: longer than the default request (30 s) and idle (60 s) timeouts.
      server: { host: "127.0.0.1", port: 0, webhook: { apiKey: API_KEY }, reportToken: REPORT_TOKEN, requestTimeoutMs: 1_800_000, connectionTimeoutMs: 1_800_000 },
      mapping: { databases: { include: managed } },
      logLevel: "warn",
    },
    process.cwd(),
  );
}

function cloudTrail(eventName: string, requestParameters: unknown) {
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.lakeformation",
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [],
    detail: { eventSource: "lakeformation.amazonaws.com", eventName, requestParameters },
  };
}

/** GET /plan?refresh=1 (a full read and plan, nothing applied): what a full run would still change. */
async function fullPlanSummary(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/plan?refresh=1`, { headers: { authorization: `Bearer ${REPORT_TOKEN}`, accept: "application/json" } });
  const body = (await response.json()) as { summary?: { grants: number; revokes: number } };
  const s = body.summary;
  if (s === undefined) return `full plan: HTTP ${response.status}`;
  if (s.grants !== 0 || s.revokes !== 0) throw new Error(`after the event run a full plan still grants ${s.grants} and revokes ${s.revokes}: incremental != full`);
  return "a full plan finds nothing left to grant or revoke";
}

async function runsByKind(server: RunningServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^lfsync_runs_by_kind_total\{kind="(\w+)"\} (\d+)/gm)) counts[m[1]!] = Number(m[2]);
  return counts;
}

async function lastRun(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/runs?limit=1`, { headers: { authorization: `Bearer ${REPORT_TOKEN}`, accept: "application/json" } });
  const body = (await response.json()) as { runs?: Record<string, unknown>[] } | Record<string, unknown>[];
  const run = Array.isArray(body) ? body[0] : body.runs?.[0];
  if (run === undefined) return "no run recorded";
  return `last run: ${String(run.command)} ${String(run.status)}, ${String(run.grants)} grants, ${String(run.revokes)} revokes, ${String(run.batchesTotal ?? run.batches_total ?? "?")} batches`;
}

function ms(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

/**
 * Schemas, tables and grantees straight through PostgreSQL (what exists before the service runs):
 * the Redshift mode keeps a group as the role `g/<name>` (test/support/data-api/redshift/identities.ts).
 */
async function createWarehouse(url: string, snapshot: CatalogSnapshot, managed: readonly string[]): Promise<void> {
  const grantees = mapEntitlements(resolvePolicies(snapshot), mappingSchema.parse({}), "redshift").grantees;
  const databases = snapshot.databases.filter((d) => managed.includes("*") || managed.includes(d.name));
  await runScript(url, [...roleScript(grantees.map((g) => (g.kind === "group" ? `${GROUP_PREFIX}${g.name}` : g.name))), ...tableScript({ ...snapshot, databases }, "varchar(256)")]);
}
