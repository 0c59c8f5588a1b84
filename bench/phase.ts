/**
 * One measured phase, run in its own process so its peak memory (maxRSS) is its own.
 * Prints one JSON line: { phase, ms, maxRssMb, ...details }.
 */
import { readFile } from "node:fs/promises";
import pg from "pg";
import { parseSnapshot } from "../src/catalog/snapshot.js";
import type { CatalogSnapshot } from "../src/catalog/model.js";
import { loadConfig } from "../src/config/load.js";
import { mappingSchema } from "../src/config/schema.js";
import { GrantColumns } from "../src/core/grant-columns.js";
import { granteeKey, tableKey } from "../src/core/grants.js";
import { mapEntitlements } from "../src/core/map.js";
import { planChanges, type PlanInput } from "../src/core/plan.js";
import { iterateBatches } from "../src/core/render.js";
import { resolvePolicies } from "../src/core/resolve.js";
import { qualifiedName, quoteIdent } from "../src/core/sql.js";
import { createLogger } from "../src/log.js";
import { createMemoryLock } from "../src/lock/memory-lock.js";
import { computePlan } from "../src/run/compute-plan.js";
import { reconcile } from "../src/run/reconcile.js";
import { openSource, openTarget } from "../src/run/wiring.js";
import { renderStateStatements } from "../src/warehouse/state-store.js";
import { generateCatalog } from "./generate.js";

const [phase, ...args] = process.argv.slice(2);
/** A run id as reconcile makes them (randomUUID): state rows carry a reference to it. */
const BENCH_RUN_ID = "5f0c9a4e-1b2d-4c3e-8f70-9a1b2c3d4e5f";
const arg = (name: string): string => {
  const i = args.indexOf(`--${name}`);
  if (i < 0 || args[i + 1] === undefined) throw new Error(`missing --${name}`);
  return args[i + 1]!;
};

/** CPU time (user + system) of this process in the timed work so far: on a loaded machine wall times are noisy. */
let cpuMs = 0;

function report(details: Record<string, unknown>): void {
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ phase, maxRssMb, cpuMs: Math.round(cpuMs), ...details })}\n`);
}

async function timed<T>(work: () => Promise<T> | T): Promise<[T, number]> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  cpuMs += (used.user + used.system) / 1000;
  return [value, Math.round(performance.now() - start)];
}

/**
 * resolve + map + plan + render of a synthetic catalog. `first`: nothing recorded or held (every
 * grant to make, batches rendered one at a time as apply does); `steady`: everything already
 * recorded and held (the scheduled run's usual case).
 */
async function core(): Promise<void> {
  const steady = arg("mode") === "steady";
  const snapshot = generateCatalog({ tables: Number(arg("tables")), databases: 20, columnsPerTable: 20, policies: 500, principals: 200 });
  const mapping = mappingSchema.parse({});
  const [entitlements, resolveMs] = await timed(() => resolvePolicies(snapshot));
  const [desired, mapMs] = await timed(() => mapEntitlements(entitlements, mapping, "redshift"));
  // The steady state's recorded and held grants are inputs read from the target, in the planner's
  // columns over the run's registry: copied before timing.
  const recorded = new GrantColumns();
  const held = new GrantColumns();
  if (steady) {
    const d = desired.columns;
    for (let i = 0; i < d.length; i++) {
      recorded.push(d.grantee[i]!, d.privilege[i]!, d.object[i]!, d.columns[i]!, d.because[i]!);
      held.push(d.grantee[i]!, d.privilege[i]!, d.object[i]!, d.columns[i]!, -1);
    }
  }
  const inventory = syntheticInventory(snapshot, desired.grantees.map(granteeKey), held);
  const input: PlanInput = { desired: desired.columns, registry: desired.registry, recorded, inventory, dialect: "redshift", policyCount: snapshot.policies.length, safety: { maxRevokes: 500, maxRevokeRatio: 0.5 }, force: false, diagnostics: [] };
  const [plan, planMs] = await timed(() => planChanges(input));
  let statements = 0;
  let batches = 0;
  let sqlBytes = 0;
  let stateBytes = 0;
  const [, renderMs] = await timed(() => {
    for (const batch of iterateBatches(plan, { dialect: "redshift", stateStatements: (r) => renderStateStatements("redshift", "lfsync", r, BENCH_RUN_ID) })) {
      batches++;
      statements += batch.statements.length;
      for (const sql of batch.statements) {
        sqlBytes += sql.length;
        if (!sql.startsWith("GRANT") && !sql.startsWith("REVOKE")) stateBytes += sql.length;
      }
    }
  });
  report({
    mode: steady ? "steady" : "first",
    tables: Number(arg("tables")),
    resolveMs, mapMs, planMs, renderMs,
    totalMs: resolveMs + mapMs + planMs + renderMs,
    changes: plan.summary.grants + plan.summary.revokes,
    desiredGrants: desired.columns.length,
    columnSubsets: desired.columns.columns.subarray(0, desired.columns.length).filter((c) => c !== 0).length,
    statements, batches, sqlMb: Math.round(sqlBytes / 1e6), stateSqlMb: Math.round(stateBytes / 1e6),
  });
}

function syntheticInventory(snapshot: CatalogSnapshot, grantees: readonly string[], held: GrantColumns) {
  const tables = new Map<string, ReadonlySet<string>>();
  for (const db of snapshot.databases) for (const t of db.tables) tables.set(tableKey(db.name, t.name), new Set(t.columns.map((c) => c.name)));
  return { schemas: new Set(snapshot.databases.map((d) => d.name)), tables, grantees: new Set(grantees), held };
}

/** Floor: node reading and JSON.parse of the snapshot file. */
async function floorParse(): Promise<void> {
  const [, ms] = await timed(async () => JSON.parse(await readFile(arg("file"), "utf8")) as unknown);
  report({ ms });
}

/** Floor: one query reading every table, column and their ACLs. */
async function floorInventory(): Promise<void> {
  const client = new pg.Client({ connectionString: arg("url") });
  await client.connect();
  const [rows, ms] = await timed(async () =>
    (
      await client.query(
        "SELECT n.nspname, c.relname, c.relacl::text, a.attname, a.attacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE c.relkind IN ('r','v','m','p') AND n.nspname NOT IN ('pg_catalog','information_schema')",
      )
    ).rowCount,
  );
  await client.end();
  report({ ms, rows });
}

/** Floor: a minimal GRANT script (tables merged per grantee, privilege and schema) in transactions of ~2000 relations. */
async function floorSql(): Promise<void> {
  const snapshot = parseSnapshot(await readFile(arg("file"), "utf8"), "json", arg("file"));
  const desired = mapEntitlements(resolvePolicies(snapshot), mappingSchema.parse({}), "postgres");
  const groups = new Map<string, string[]>();
  const statements: { sql: string; relations: number }[] = [];
  for (const g of desired.grants) {
    const to = quoteIdent(g.grantee.name);
    if (g.object.table === null) statements.push({ sql: `GRANT ${g.privilege} ON SCHEMA ${quoteIdent(g.object.schema)} TO ${to}`, relations: 1 });
    else if (g.object.columns !== null) statements.push({ sql: `GRANT SELECT (${g.object.columns.map(quoteIdent).join(", ")}) ON ${qualifiedName(g.object.schema, g.object.table)} TO ${to}`, relations: 1 });
    else {
      const key = `GRANT ${g.privilege} ON TABLE %s TO ${to}`;
      const list = groups.get(`${key}\u0000${g.object.schema}`) ?? [];
      list.push(qualifiedName(g.object.schema, g.object.table));
      groups.set(`${key}\u0000${g.object.schema}`, list);
    }
  }
  for (const [key, tables] of groups) statements.push({ sql: key.split("\u0000")[0]!.replace("%s", tables.join(", ")), relations: tables.length });
  const client = new pg.Client({ connectionString: arg("url") });
  await client.connect();
  const [, ms] = await timed(async () => {
    let relations = 0;
    await client.query("BEGIN");
    for (const s of statements) {
      await client.query(s.sql);
      relations += s.relations;
      if (relations >= 2000) {
        await client.query("COMMIT");
        await client.query("BEGIN");
        relations = 0;
      }
    }
    await client.query("COMMIT");
  });
  await client.end();
  report({ ms, statements: statements.length });
}

/** The real commands, through the same code the CLI runs. */
async function apply(): Promise<void> {
  const config = await loadConfig(arg("config"));
  const executor = await openTarget(config);
  const lock = createMemoryLock();
  const [summary, ms] = await timed(() => reconcile({ config, source: openSource(config), executor, lock, logger: createLogger("warn"), force: true }));
  await executor.close();
  if (summary.error !== null) throw summary.error;
  report({ ms, grants: summary.result?.appliedChanges.grants, batches: summary.result?.batches.length });
}

async function plan(): Promise<void> {
  const config = await loadConfig(arg("config"));
  const executor = await openTarget(config);
  const [result, ms] = await timed(() => computePlan({ config, source: openSource(config), executor }));
  await executor.close();
  report({ ms, changes: result.plan.changes.length, timings: result.timings });
}

const phases: Record<string, () => Promise<void>> = { core, "floor-parse": floorParse, "floor-inventory": floorInventory, "floor-sql": floorSql, apply, plan };
const run = phase === undefined ? undefined : phases[phase];
if (run === undefined) throw new Error(`unknown phase ${String(phase)}; one of ${Object.keys(phases).join(", ")}`);
await run();
