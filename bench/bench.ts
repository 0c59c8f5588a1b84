/**
 * `npm run bench`: DESIGN §6 measured as ratios to floors in the same run.
 *   core:  resolve + map + plan + render at 10k and 100k tables (20 columns, 500 policies, 200 principals)
 *   e2e:   on a real PostgreSQL 15 server, first apply vs the SQL floor, no-op plan vs parse + inventory floors
 *   data-api: the redshift dialect through the local Data API endpoint in Redshift mode: calls, bytes,
 *         batches and the largest result read, for a first apply and a steady run (bench/data-api.ts)
 * Flags: --core 10000,100000   --e2e 10000   --data-api 2000,10000 (the steady run's calls compared across
 *        sizes; 10000,100000 measures 100k)   0 skips a bench
 *   latency: event -> applied through the server and the local LF/Glue and Data API endpoints, and the
 *         calls of a full read (bench/latency.ts): --latency [10000[,100000]] (off unless given)
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serializeSnapshot } from "../src/catalog/snapshot.js";
import { mappingSchema } from "../src/config/schema.js";
import { mapEntitlements } from "../src/core/map.js";
import { resolvePolicies } from "../src/core/resolve.js";
import { createTestDatabase, startPostgres } from "../test/support/postgres.js";
import { flag, sizes } from "./args.js";
import { roleScript, runScript, tableScript } from "./catalog-setup.js";
import { checkDataApiTargets, dataApiBench } from "./data-api.js";
import { latencyBench } from "./latency.js";
import { generateCatalog } from "./generate.js";
import { catalogOptions, phase } from "./run-phase.js";

async function coreBench(sizes: number[]): Promise<void> {
  console.log("\n== core: resolve + map + plan + render, each in its own process (peak RSS is that process's) ==");
  for (const tables of sizes) {
    for (const mode of ["first", "steady"]) {
      const r = await phase("core", "--tables", String(tables), "--mode", mode);
      console.log(
        `${String(tables).padStart(7)} tables, ${mode.padEnd(6)}: ${String(r.totalMs).padStart(6)} ms (resolve ${r.resolveMs}, map ${r.mapMs}, plan ${r.planMs}, render ${r.renderMs}), ` +
          `peak RSS ${r.maxRssMb} MB; ${r.desiredGrants} desired grants (${r.columnSubsets} column subsets), ${r.changes} changes, ` +
          `${r.statements} statements / ${r.batches} batches / ${r.sqlMb} MB SQL (state rows ${r.stateSqlMb} MB)`,
      );
    }
  }
  console.log("target: 100k tables < 5 s and < 1 GB on 2 cores");
}

async function e2eBench(tables: number): Promise<void> {
  console.log(`\n== end to end on PostgreSQL (${tables} tables x 20 columns, 500 policies, 200 principals) ==`);
  const dir = await mkdtemp(join(tmpdir(), "lfsync-bench-"));
  const server = await startPostgres();
  try {
    const snapshot = generateCatalog(catalogOptions(tables));
    const file = join(dir, "snapshot.json");
    await writeFile(file, serializeSnapshot(snapshot, "json"));
    const grantees = mapEntitlements(resolvePolicies(snapshot), mappingSchema.parse({}), "postgres").grantees;
    const applyUrl = await createTestDatabase(server.url);
    const floorUrl = await createTestDatabase(server.url);
    // Roles are cluster-wide: create them once, then only schemas and tables in the second database.
    const script = tableScript(snapshot, "text");
    await runScript(applyUrl, [...roleScript(grantees.map((g) => g.name)), ...script]);
    await runScript(floorUrl, script);
    const config = join(dir, "config.yaml");
    await writeFile(config, `source: { kind: file, path: ${JSON.stringify(file)} }\ntarget: { kind: postgres, url: ${JSON.stringify(applyUrl)} }\nlogLevel: warn\n`);

    const parse = await phase("floor-parse", "--file", file);
    const sql = await phase("floor-sql", "--file", file, "--url", floorUrl);
    const apply = await phase("apply", "--config", config);
    const inventory = await phase("floor-inventory", "--url", applyUrl);
    const plan = await phase("plan", "--config", config);
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log(`floor parse       ${parse.ms} ms`);
    console.log(`floor inventory   ${inventory.ms} ms (${inventory.rows} rows)`);
    console.log(`floor SQL         ${sql.ms} ms (${sql.statements} statements, ~2000 relations per transaction)`);
    console.log(`first apply       ${apply.ms} ms, ${apply.grants} grants in ${apply.batches} batches, peak RSS ${apply.maxRssMb} MB -> ${ratio(apply.ms!, sql.ms!)}x SQL floor (target <= 2x, aim 1.2x)`);
    console.log(`no-op plan        ${plan.ms} ms, ${plan.changes} changes, peak RSS ${plan.maxRssMb} MB -> ${ratio(plan.ms!, parse.ms! + inventory.ms!)}x (parse + inventory) (target <= 3x, aim 1.5x)`);
    console.log(`                  plan phases: ${JSON.stringify(plan.timings)}`);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const core = sizes("core", "10000,100000");
const e2e = Number(flag("e2e", "10000"));
const dataApi = sizes("data-api", "2000,10000");
await coreBench(core);
if (e2e > 0) await e2eBench(e2e);
const figures = [];
for (const tables of dataApi) figures.push(await dataApiBench(tables));
checkDataApiTargets(figures);
for (const tables of process.argv.includes("--latency") ? sizes("latency", "10000") : []) await latencyBench(tables);
