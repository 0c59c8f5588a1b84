/**
 * `npx tsx bench/inventory.ts`: readPostgresInventory against the one-query floor on a real
 * PostgreSQL server holding the DESIGN §6 shape (10k tables x 20 columns in 20 schemas, grants of
 * 500 policies to 200 roles: ~260k table grants and ~48k column-subset grants).
 *
 * Each measurement runs in its own process, so its peak RSS is its own. Printed per run: wall ms,
 * heap retained after a GC with the result alive (what the result needs), peak heap sampled every
 * 5 ms minus the heap before the call (the working set), and maxRSS.
 *
 * Flags: --tables 10000   --runs 3   --url <database URL> (measure an already set-up database)
 *        --keep (set up, print the URL, keep the server until Ctrl-C: for measuring again with --url)
 * The grantees asked about are all roles of the server but pg_* roles and superusers.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { mappingSchema } from "../src/config/schema.js";
import type { Grantee } from "../src/core/grants.js";
import { mapEntitlements } from "../src/core/map.js";
import { resolvePolicies } from "../src/core/resolve.js";
import { qualifiedName, quoteIdent } from "../src/core/sql.js";
import { readPostgresInventory } from "../src/warehouse/inventory-postgres.js";
import { createPostgresExecutor } from "../src/warehouse/postgres-executor.js";
import { createTestDatabase, startPostgres } from "../test/support/postgres.js";
import { generateCatalog } from "./generate.js";

const run = promisify(execFile);
const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};

const FLOOR_SQL =
  "SELECT n.nspname, c.relname, c.relacl::text, a.attname, a.attacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE c.relkind IN ('r','v','m','p') AND n.nspname NOT IN ('pg_catalog','information_schema')";

interface Measurement {
  what: string;
  ms: number;
  retainedMb: number;
  peakHeapMb: number;
  maxRssMb: number;
  details: Record<string, number>;
}

const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

/** Child process: one measured call. */
async function measure(what: string, url: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  const names = async (): Promise<Grantee[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = (await client.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND NOT rolsuper")).rows;
    await client.end();
    return rows.map((r) => ({ kind: "role", name: r.rolname }));
  };
  const grantees = what === "inventory" ? await names() : [];
  const executor = createPostgresExecutor(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Warm connections (pool of 4) and the catalog caches of the server are not what is measured.
  await Promise.all([1, 2, 3, 4].map(() => executor.query("SELECT 1")));
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
  const start = performance.now();
  let result: unknown;
  const details: Record<string, number> = {};
  if (what === "floor") {
    const rows = (await client.query(FLOOR_SQL)).rows;
    details.rows = rows.length;
    result = rows;
  } else {
    const inventory = await readPostgresInventory(executor, { grantees, excludeSchemas: [] });
    details.tables = inventory.tables.size;
    details.held = inventory.held.length;
    details.columnGrants = inventory.held.filter((g) => g.object.columns !== null).length;
    result = inventory;
  }
  const ms = Math.round(performance.now() - start);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  gc();
  const retained = process.memoryUsage().heapUsed - before;
  if (result === undefined) throw new Error("unreachable");
  await client.end();
  await executor.close();
  const out: Measurement = { what, ms, retainedMb: mb(retained), peakHeapMb: mb(peak - before), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), details };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

async function child(what: string, url: string): Promise<Measurement> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--expose-gc", "--max-old-space-size=4096", "bench/inventory.ts", "--measure", what, "--url", url], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Measurement;
}

/** Roles, 10k tables and the grants of the benchmark catalog, as a first apply would leave them. */
async function setUp(url: string, tables: number): Promise<void> {
  const snapshot = generateCatalog({ tables, databases: 20, columnsPerTable: 20, policies: 500, principals: 200 });
  const desired = mapEntitlements(resolvePolicies(snapshot), mappingSchema.parse({}), "postgres");
  const script: string[] = desired.grantees.map((g) => `CREATE ROLE ${quoteIdent(g.name)} NOLOGIN;`);
  for (const db of snapshot.databases) {
    script.push(`CREATE SCHEMA ${quoteIdent(db.name)};`);
    for (const t of db.tables) script.push(`CREATE TABLE ${qualifiedName(db.name, t.name)} (${t.columns.map((c) => `${quoteIdent(c.name)} text`).join(", ")});`);
  }
  // Table grants merged per grantee, privilege and schema, as bench/phase.ts floorSql does.
  const merged = new Map<string, string[]>();
  for (const g of desired.grants) {
    const to = quoteIdent(g.grantee.name);
    if (g.object.table === null) script.push(`GRANT ${g.privilege} ON SCHEMA ${quoteIdent(g.object.schema)} TO ${to};`);
    else if (g.object.columns !== null) script.push(`GRANT ${g.privilege} (${g.object.columns.map(quoteIdent).join(", ")}) ON ${qualifiedName(g.object.schema, g.object.table)} TO ${to};`);
    else {
      const key = `GRANT ${g.privilege} ON TABLE %s TO ${to};\u0000${g.object.schema}`;
      const list = merged.get(key) ?? [];
      list.push(qualifiedName(g.object.schema, g.object.table));
      merged.set(key, list);
    }
  }
  for (const [key, list] of merged) {
    for (let i = 0; i < list.length; i += 500) script.push(key.split("\u0000")[0]!.replace("%s", list.slice(i, i + 500).join(", ")));
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Chunks: one query is one transaction, and 10k CREATE TABLEs overflow the lock table.
    for (let i = 0; i < script.length; i += 500) await client.query(script.slice(i, i + 500).join("\n"));
    await client.query("VACUUM ANALYZE");
  } finally {
    await client.end();
  }
  console.log(`set up: ${desired.grantees.length} roles, ${tables} tables, ${desired.grants.length} desired grants (${desired.grants.filter((g) => g.object.columns !== null).length} column subsets)`);
}

async function main(): Promise<void> {
  const runs = Number(flag("runs", "3"));
  const tables = Number(flag("tables", "10000"));
  let url = flag("url", "");
  const server = url === "" ? await startPostgres() : undefined;
  try {
    if (server !== undefined) {
      url = await createTestDatabase(server.url);
      const start = performance.now();
      await setUp(url, tables);
      console.log(`set-up took ${Math.round((performance.now() - start) / 1000)} s`);
      if (process.argv.includes("--keep")) {
        console.log(`database: ${url} (Ctrl-C stops the server)`);
        // Signal listeners do not keep the event loop alive: the timer does.
        const alive = setInterval(() => undefined, 1 << 30);
        await new Promise((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        clearInterval(alive);
        return;
      }
    }
    const results: Measurement[] = [];
    for (let i = 0; i < runs; i++) {
      for (const what of ["floor", "inventory"]) {
        const m = await child(what, url);
        results.push(m);
        console.log(`${what.padEnd(9)} ${String(m.ms).padStart(6)} ms  retained ${String(m.retainedMb).padStart(6)} MB  peak heap +${String(m.peakHeapMb).padStart(6)} MB  maxRSS ${m.maxRssMb} MB  ${JSON.stringify(m.details)}`);
      }
    }
    const median = (what: string): number => {
      const ms = results.filter((r) => r.what === what).map((r) => r.ms).sort((a, b) => a - b);
      return ms[Math.floor(ms.length / 2)]!;
    };
    console.log(`median: floor ${median("floor")} ms, inventory ${median("inventory")} ms -> ${(median("inventory") / median("floor")).toFixed(2)}x floor (target <= 1.2x)`);
  } finally {
    await server?.stop();
  }
}

const measured = flag("measure", "");
if (measured !== "") await measure(measured, flag("url", ""));
else await main();
