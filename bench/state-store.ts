/**
 * The recorded state (DESIGN §4.3) at the §6 shape, on a real PostgreSQL server: the first apply's
 * state rows rendered batch by batch as apply renders them, then executed; then readRecordedGrants.
 *   tsx bench/state-store.ts [--tables 10000] [--reads 3]
 * Prints one line per measurement; peak RSS is this process's. Run with `node --expose-gc --import tsx`
 * for the heap figures.
 */
import { mappingSchema } from "../src/config/schema.js";
import { granteeKey, tableKey } from "../src/core/grants.js";
import { mapEntitlements } from "../src/core/map.js";
import { planChanges } from "../src/core/plan.js";
import { iterateBatches } from "../src/core/render.js";
import { resolvePolicies } from "../src/core/resolve.js";
import { runMigrations } from "../src/warehouse/migrate.js";
import { createPostgresExecutor } from "../src/warehouse/postgres-executor.js";
import { readRecordedGrants, renderStateStatements } from "../src/warehouse/state-store.js";
import { createTestDatabase, startPostgres } from "../test/support/postgres.js";
import { generateCatalog } from "./generate.js";

const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const tables = Number(flag("tables", "10000"));
const reads = Number(flag("reads", "3"));
const mb = (bytes: number): number => Math.round(bytes / 1e6);

const snapshot = generateCatalog({ tables, databases: 20, columnsPerTable: 20, policies: 500, principals: 200 });
const desired = mapEntitlements(resolvePolicies(snapshot), mappingSchema.parse({}), "postgres");
const inventoryTables = new Map<string, ReadonlySet<string>>();
for (const db of snapshot.databases) for (const t of db.tables) inventoryTables.set(tableKey(db.name, t.name), new Set(t.columns.map((c) => c.name)));
const plan = planChanges({
  desired: desired.grants,
  recorded: [],
  inventory: { schemas: new Set(snapshot.databases.map((d) => d.name)), tables: inventoryTables, grantees: new Set(desired.grantees.map(granteeKey)), held: [] },
  dialect: "postgres",
  policyCount: snapshot.policies.length,
  safety: { maxRevokes: 500, maxRevokeRatio: 0.5 },
  force: true,
  diagnostics: [],
});
const slots = desired.grants.length;
const subsets = desired.grants.filter((g) => g.object.columns !== null).length;
console.log(`${tables} tables: ${slots} desired slots, ${subsets} column subsets, ${plan.steps.length} steps`);

/** A run id as reconcile makes them (randomUUID). */
const RUN_ID = "5f0c9a4e-1b2d-4c3e-8f70-9a1b2c3d4e5f";
const server = await startPostgres();
const executor = createPostgresExecutor(await createTestDatabase(server.url));
try {
  await runMigrations(executor, "lfsync");
  let renderMs = 0;
  let executeMs = 0;
  let statements = 0;
  let bytes = 0;
  let batches = 0;
  const options = {
    dialect: "postgres" as const,
    stateStatements: (records: Parameters<typeof renderStateStatements>[2]) => {
      const start = performance.now();
      const sql = renderStateStatements("postgres", "lfsync", records, RUN_ID);
      renderMs += performance.now() - start;
      return sql;
    },
  };
  for (const batch of iterateBatches(plan, options)) {
    const state = batch.statements.filter((s) => !s.startsWith("GRANT") && !s.startsWith("REVOKE"));
    batches++;
    statements += state.length;
    for (const s of state) bytes += Buffer.byteLength(s);
    const start = performance.now();
    await executor.transaction(state);
    executeMs += performance.now() - start;
  }
  const count = async (table: string): Promise<string> => {
    const [present] = await executor.query(`SELECT to_regclass('lfsync.${table}') IS NOT NULL AS present`);
    if (present?.present !== true) return `no ${table}`;
    const [row] = await executor.query(`SELECT count(*) AS n, pg_size_pretty(pg_total_relation_size('lfsync.${table}')) AS size FROM lfsync.${table}`);
    return `${table} ${String(row?.n)} rows / ${String(row?.size)}`;
  };
  console.log(
    `first apply state rows: render ${Math.round(renderMs)} ms, execute ${Math.round(executeMs)} ms; ${statements} statements (${mb(bytes)} MB) in ${batches} batches; ` +
      `${await count("grant_slots")}`,
  );
  // The same rows in batches of 2000 slots (what the state rows alone cost, whatever render.ts batches).
  await runMigrations(executor, "lfsync_2000");
  const records = plan.steps.flatMap((step) => step.records);
  let chunkedRenderMs = 0;
  let chunkedExecuteMs = 0;
  for (let i = 0; i < records.length; i += 2000) {
    let start = performance.now();
    const sql = renderStateStatements("postgres", "lfsync_2000", records.slice(i, i + 2000), RUN_ID);
    chunkedRenderMs += performance.now() - start;
    start = performance.now();
    await executor.transaction(sql);
    chunkedExecuteMs += performance.now() - start;
  }
  console.log(`the same rows, 2000 slots per transaction: render ${Math.round(chunkedRenderMs)} ms, execute ${Math.round(chunkedExecuteMs)} ms`);
  for (let i = 0; i < reads; i++) {
    const start = performance.now();
    const rows = await executor.query(`SELECT * FROM lfsync.grant_slots`);
    console.log(`floor: SELECT * FROM grant_slots through the executor: ${Math.round(performance.now() - start)} ms, ${rows.length} rows`);
  }
  for (let i = 0; i < reads; i++) {
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const start = performance.now();
    const recorded = await readRecordedGrants(executor, "lfsync");
    const ms = Math.round(performance.now() - start);
    const heapAtReturn = process.memoryUsage().heapUsed - heapBefore;
    globalThis.gc?.();
    const retained = process.memoryUsage().heapUsed - heapBefore;
    const columns = recorded.filter((g) => g.object.columns !== null).length;
    console.log(`readRecordedGrants #${i + 1}: ${ms} ms, ${recorded.length} grants (${columns} column subsets), heap +${mb(heapAtReturn)} MB at return, result retains ${mb(retained)} MB`);
  }
  console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
} finally {
  await executor.close();
  await server.stop();
}
