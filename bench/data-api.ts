/**
 * What a run costs on Redshift: Data API calls (submit, describe, result), bytes sent, batches and
 * the largest result read (issue 9 item 3), for a first apply and a steady run, with the redshift
 * dialect through the local Data API endpoint in Redshift mode on a real PostgreSQL server.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { serializeSnapshot } from "../src/catalog/snapshot.js";
import { mappingSchema } from "../src/config/schema.js";
import { mapEntitlements } from "../src/core/map.js";
import { resolvePolicies } from "../src/core/resolve.js";
import { qualifiedName, quoteIdent } from "../src/core/sql.js";
import { startLocalDataApi, type DataApiMetrics, type LocalDataApi } from "../test/support/data-api-server.js";
import { GROUP_PREFIX } from "../test/support/data-api/redshift/identities.js";
import { createTestDatabase, startPostgres } from "../test/support/postgres.js";
import type { CatalogSnapshot } from "../src/catalog/model.js";
import { generateCatalog } from "./generate.js";
import { catalogOptions, phase, type Result } from "./run-phase.js";

export async function dataApiBench(tables: number): Promise<void> {
  console.log(`\n== Data API, dialect redshift, local endpoint in Redshift mode (${tables} tables x 20 columns, 500 policies, 200 principals) ==`);
  const dir = await mkdtemp(join(tmpdir(), "lfsync-bench-api-"));
  const server = await startPostgres();
  let api: LocalDataApi | undefined;
  try {
    const snapshot = generateCatalog(catalogOptions(tables));
    const file = join(dir, "snapshot.json");
    await writeFile(file, serializeSnapshot(snapshot, "json"));
    const url = await createTestDatabase(server.url);
    await createCatalog(url, snapshot);
    api = await startLocalDataApi({ pgUrl: url, mode: "redshift" });
    const config = join(dir, "config.yaml");
    // Polls every 10 ms (default 250): the emulator's statement times are not Redshift's, so describe
    // counts measure the executor's polling here, and wall time stays short.
    const target = { kind: "data-api", endpoint: api.endpoint, region: "us-east-1", workgroupName: "bench", database: "dev", dialect: "redshift", pollIntervalMs: 10 };
    await writeFile(config, `source: { kind: file, path: ${JSON.stringify(file)} }\ntarget: ${JSON.stringify(target)}\nlogLevel: warn\n`);
    // Any SigV4 credentials do for the local endpoint; the phase process inherits them.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AWS_REGION: "us-east-1" });
    for (const run of ["first apply", "steady run"]) {
      await api.reset();
      const result = await phase("apply", "--config", config);
      print(run, result, api.metrics());
    }
  } finally {
    await api?.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function print(run: string, result: Result, m: DataApiMetrics): void {
  const mb = (bytes: number): string => (bytes / 1e6).toFixed(2);
  console.log(
    `${run.padEnd(12)} ${String(result.ms).padStart(7)} ms, ${result.grants ?? 0} grants; calls: ${m.submitCalls} submit, ${m.describeCalls} describe, ` +
      `${m.resultCalls} result, ${m.otherCalls} other; ${m.batches} batches (${m.statements} statements); sent ${mb(m.bytesSent)} MB ` +
      `(SQL ${mb(m.sqlBytes)} MB), received ${mb(m.bytesReceived)} MB; largest result read ${mb(m.largestResultBytes)} MB (${m.largestResultRows} rows)`,
  );
}

/**
 * Schemas, tables and grantees straight through PostgreSQL: the mode keeps a group as the role
 * `g/<name>` (test/support/data-api/redshift/identities.ts), a role under its own name.
 */
async function createCatalog(url: string, snapshot: CatalogSnapshot): Promise<void> {
  const grantees = mapEntitlements(resolvePolicies(snapshot), mappingSchema.parse({}), "redshift").grantees;
  const script = grantees.map((g) => `CREATE ROLE ${quoteIdent(g.kind === "group" ? `${GROUP_PREFIX}${g.name}` : g.name)} NOLOGIN;`);
  for (const db of snapshot.databases) {
    script.push(`CREATE SCHEMA ${quoteIdent(db.name)};`);
    for (const t of db.tables) script.push(`CREATE TABLE ${qualifiedName(db.name, t.name)} (${t.columns.map((c) => `${quoteIdent(c.name)} varchar(256)`).join(", ")});`);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Chunks: one query is one transaction, and 10k CREATE TABLEs overflow the lock table.
    for (let i = 0; i < script.length; i += 500) await client.query(script.slice(i, i + 500).join("\n"));
  } finally {
    await client.end();
  }
}
