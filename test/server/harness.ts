import { afterAll, beforeAll } from "vitest";
import type { FastifyInstance } from "fastify";
import type { CatalogSnapshot, CatalogSource } from "../../src/catalog/model.js";
import { configSchema, type Config } from "../../src/config/schema.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { SyncError } from "../../src/errors.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import type { RunLock } from "../../src/lock/lock.js";
import { computeAccess } from "../../src/run/access.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile, type RunSummary } from "../../src/run/reconcile.js";
import { buildApp, type ReadinessCheck } from "../../src/server/app.js";
import type { RunTrigger } from "../../src/server/run-queue.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { createPgliteExecutor, type PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { getRun, listRuns } from "../../src/warehouse/state-store.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";

export const API_KEY = "test-api-key-0123456789";
export const BASIC = { user: "eventbridge", password: "s3cret:with:colons" };
export const REPORT_TOKEN = "report-token-abcdef";

export const TABLES = 50;

/**
 * Phase one: analyst reads every sales table except its PII column (a column subset per table: one
 * statement each, so a run needs several batches); engineer reads and inserts whole tables.
 */
export function phaseOne(): CatalogSnapshot {
  const tables = Array.from({ length: TABLES }, (_, i) => table(`t${String(i).padStart(2, "0")}`, {}, ["id", "amount", ["email", { pii: "true" }]]));
  return catalog({
    databases: [database("sales", { pii: "false", domain: "sales" }, tables), database("hr", { pii: "false", domain: "hr" }, [table("employees", {}, ["id", "name"])])],
    policies: [
      policy(role("analyst"), "TABLE", { pii: ["false"] }, ["SELECT"]),
      policy(role("engineer"), "TABLE", { domain: ["sales"] }, ["SELECT", "INSERT"]),
    ],
  });
}

/** Phase two: analyst may read PII too (every column subset becomes a whole-table grant); engineer's policy is gone. */
export function phaseTwo(): CatalogSnapshot {
  const one = phaseOne();
  return { ...one, policies: [policy(role("analyst"), "TABLE", { pii: ["false", "true"] }, ["SELECT"])] };
}

export const GRANTEES = ["analyst", "engineer"];

/** Knobs on the target, to make a run slow or make one of its batches fail. */
export interface TargetFaults {
  /** Added before every GRANT/REVOKE batch. */
  batchDelayMs: number;
  /** While set, every GRANT/REVOKE batch waits for it: a run as slow as the test needs, on any machine. */
  hold: Promise<void> | null;
  /** The n-th GRANT/REVOKE batch from now (1 = the next one) fails once; 0: none. */
  failBatch: number;
  /** GRANT/REVOKE batches started. */
  batchesStarted: number;
}

function faultyExecutor(inner: SqlExecutor, faults: TargetFaults): SqlExecutor {
  return {
    dialect: inner.dialect,
    query: (sql) => inner.query(sql),
    async transaction(statements, options) {
      if (statements.some((s) => /^(GRANT|REVOKE)\b/.test(s))) {
        faults.batchesStarted++;
        if (faults.batchDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.batchDelayMs));
        if (faults.hold !== null) await faults.hold;
        if (faults.failBatch > 0 && --faults.failBatch === 0) throw new SyncError("TARGET_FAILED", "injected failure: connection reset");
      }
      return inner.transaction(statements, options);
    },
    close: () => inner.close(),
  };
}

export interface Harness {
  readonly app: FastifyInstance;
  /** Base URL on 127.0.0.1 (a real listening socket). */
  readonly url: string;
  readonly config: Config;
  /** The database itself, without faults; the test file closes it. */
  readonly executor: PostgresExecutor;
  readonly lock: RunLock;
  /** The catalog the source returns; tests replace `snapshot`. */
  /** The catalog the source serves; `readDelayMs` makes each read that slow (a large catalog). */
  readonly holder: { snapshot: CatalogSnapshot; readDelayMs: number };
  readonly faults: TargetFaults;
  readonly runs: RunSummary[];
  readonly triggers: RunTrigger[];
  /** How many times the app asked for a plan. */
  readonly plans: { computed: number };
  close(): Promise<void>;
}

/**
 * One embedded database per test file (PGlite takes seconds to start): the sales and hr tables and
 * the grantees exist; each harness starts from no grants and no state schema.
 */
export async function openTestDatabase(): Promise<PostgresExecutor> {
  const executor = await createPgliteExecutor({});
  const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" } });
  const grantees = mapEntitlements(resolvePolicies(phaseOne()), config.mapping, "postgres").grantees;
  await mirrorCatalog(executor, phaseOne(), grantees, new Set());
  return executor;
}

/** Revoking a table privilege also revokes its column privileges (PostgreSQL REVOKE). */
async function resetTestDatabase(executor: SqlExecutor): Promise<void> {
  await executor.transaction([
    "DROP SCHEMA IF EXISTS lfsync CASCADE",
    "REVOKE ALL ON ALL TABLES IN SCHEMA sales, hr FROM analyst, engineer",
    "REVOKE ALL ON SCHEMA sales, hr FROM analyst, engineer",
  ]);
}

export interface HarnessOptions {
  readonly executor: PostgresExecutor;
  readonly debounceMs?: number;
  readonly server?: Record<string, unknown>;
  readonly checkReady?: () => Promise<readonly ReadinessCheck[]>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const config = configSchema.parse({
    source: { kind: "file", path: "unused.yaml" },
    target: { kind: "pglite" },
    safety: { maxRevokes: 5000, maxRevokeRatio: 1 },
    server: {
      webhook: { apiKey: API_KEY, basicUser: BASIC.user, basicPassword: BASIC.password },
      reportToken: REPORT_TOKEN,
      debounceMs: options.debounceMs ?? 50,
      readyCacheMs: 0,
      ...options.server,
    },
  });
  const holder = { snapshot: phaseOne(), readDelayMs: 0 };
  const source: CatalogSource = {
    async read() {
      if (holder.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, holder.readDelayMs));
      return { snapshot: holder.snapshot, warnings: [] };
    },
  };
  const executor = options.executor;
  await resetTestDatabase(executor);
  const faults: TargetFaults = { batchDelayMs: 0, hold: null, failBatch: 0, batchesStarted: 0 };
  const target = faultyExecutor(executor, faults);
  const lock = createMemoryLock();
  const logger = createLogger("silent");
  const runs: RunSummary[] = [];
  const triggers: RunTrigger[] = [];
  const plans = { computed: 0 };
  const app = await buildApp({
    server: config.server!,
    logger,
    async runReconcile(trigger) {
      triggers.push(trigger);
      const summary = await reconcile({ config, source, executor: target, lock, logger, command: "webhook", shouldStop: trigger.shouldStop });
      runs.push(summary);
      return summary;
    },
    async computePlan() {
      plans.computed++;
      return (await computePlan({ config, source, executor: target })).plan;
    },
    computeAccess: (filter) => computeAccess({ config, source, executor: target, filter }),
    listRuns: (limit) => listRuns(executor, config.stateSchema, limit),
    getRun: (runId) => getRun(executor, config.stateSchema, runId),
    checkReady: options.checkReady ?? (async () => [{ name: "target", ok: true }]),
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    app,
    url,
    config,
    executor,
    lock,
    holder,
    faults,
    runs,
    triggers,
    plans,
    async close() {
      await app.close();
      await lock.close();
    },
  };
}

/**
 * One database and one harness for a whole test file: opened in beforeAll, closed in afterAll.
 * `file.h` is set once beforeAll has run; `prepare` runs after the harness started.
 */
export function harnessPerFile(options: Omit<HarnessOptions, "executor"> = {}, prepare?: (h: Harness) => Promise<void>, timeoutMs?: number): { readonly h: Harness } {
  const file: { h?: Harness } = {};
  beforeAll(async () => {
    const h = await startHarness({ ...options, executor: await openTestDatabase() });
    file.h = h;
    await prepare?.(h);
  }, timeoutMs);
  afterAll(async () => {
    await file.h?.close();
    await file.h?.executor.close();
  });
  return {
    get h(): Harness {
      if (file.h === undefined) throw new Error("the harness starts in beforeAll: use it inside tests");
      return file.h;
    },
  };
}

/** The envelope as EventBridge delivers it (aws-facts §4.2). */
export function cloudTrailEvent(eventName: string, extra: { source?: string; eventSource?: string; errorCode?: string; id?: string; requestParameters?: unknown } = {}) {
  const source = extra.source ?? "aws.lakeformation";
  return {
    version: "0",
    id: extra.id ?? "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
    "detail-type": "AWS API Call via CloudTrail",
    source,
    account: "123456789012",
    time: "2025-01-01T00:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail: {
      eventVersion: "1.08",
      eventSource: extra.eventSource ?? (source === "aws.glue" ? "glue.amazonaws.com" : "lakeformation.amazonaws.com"),
      eventName,
      awsRegion: "eu-west-1",
      // Grants name an LF-tag policy; grants on named resources change nothing this service follows.
      requestParameters:
        extra.requestParameters ??
        (/Permissions$/.test(eventName)
          ? { resource: { lFTagPolicy: { resourceType: "TABLE", expression: [{ tagKey: "access", tagValues: ["public"] }] } } }
          : { resource: { table: { databaseName: "sales", name: "orders" } } }),
      ...(extra.errorCode === undefined ? {} : { errorCode: extra.errorCode, errorMessage: "denied" }),
    },
  };
}

export function postEvent(url: string, body: unknown, headers: Record<string, string> = { "x-api-key": API_KEY }): Promise<Response> {
  return fetch(`${url}/webhooks/lakeformation`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/**
 * Access the database grants, read through has_*_privilege (not the service's own inventory):
 * `analyst SELECT sales.t00` (whole table) and `analyst SELECT sales.t00.amount` (column only).
 */
export async function heldAccess(executor: SqlExecutor): Promise<string[]> {
  const rows = await executor.query(`
    SELECT r.rolname AS g, c.relname AS t, a.attname AS col,
           has_table_privilege(r.oid, c.oid, 'SELECT') AS tsel, has_table_privilege(r.oid, c.oid, 'INSERT') AS tins,
           has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT') AS csel
    FROM pg_roles r CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind = 'r' AND n.nspname = 'sales' AND r.rolname IN ('analyst', 'engineer')`);
  const out = new Set<string>();
  for (const r of rows) {
    if (r.tsel === true) out.add(`${String(r.g)} SELECT sales.${String(r.t)}`);
    else if (r.csel === true) out.add(`${String(r.g)} SELECT sales.${String(r.t)}.${String(r.col)}`);
    if (r.tins === true) out.add(`${String(r.g)} INSERT sales.${String(r.t)}`);
  }
  return [...out].sort();
}

/** What heldAccess must say once a phase is applied, written out by hand (not by the resolver). */
export function expectedAccess(phase: 1 | 2): string[] {
  const out: string[] = [];
  for (let i = 0; i < TABLES; i++) {
    const t = `sales.t${String(i).padStart(2, "0")}`;
    if (phase === 1) out.push(`analyst SELECT ${t}.amount`, `analyst SELECT ${t}.id`, `engineer SELECT ${t}`, `engineer INSERT ${t}`);
    else out.push(`analyst SELECT ${t}`);
  }
  return out.sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `predicate` holds (or fails the test after `timeoutMs`). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
