/**
 * What a run costs on Redshift: Data API calls (submit, describe, result), bytes sent, batches and
 * the largest result read (issue 9 item 3), for a first apply and a steady run, with the redshift
 * dialect through the local Data API endpoint in Redshift mode on a real PostgreSQL server; then
 * the targets checked on those figures (checkDataApiTargets).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serializeSnapshot } from "../src/catalog/snapshot.js";
import { mappingSchema } from "../src/config/schema.js";
import { mapEntitlements } from "../src/core/map.js";
import { MAX_BATCH_BYTES, MAX_BATCH_STATEMENTS } from "../src/core/render.js";
import { resolvePolicies } from "../src/core/resolve.js";
import { startLocalDataApi, type DataApiMetrics, type LocalDataApi } from "../test/support/data-api-server.js";
import { GROUP_PREFIX } from "../test/support/data-api/redshift/identities.js";
import { createTestDatabase, startPostgres } from "../test/support/postgres.js";
import { roleScript, runScript, tableScript } from "./catalog-setup.js";
import { generateCatalog } from "./generate.js";
import { catalogOptions, phase } from "./run-phase.js";

export interface DataApiRun {
  readonly ms: number;
  /** The run's process (1 GB heap, as every bench phase). */
  readonly maxRssMb: number;
  readonly grants: number;
  readonly metrics: DataApiMetrics;
}

export interface DataApiFigures {
  readonly tables: number;
  readonly first: DataApiRun;
  readonly steady: DataApiRun;
}

/** The documented result cap (aws-facts §5.3; the endpoint's default). */
const RESULT_CAP_BYTES = 100 * 1024 * 1024;
const mb = (bytes: number): string => (bytes / 1e6).toFixed(2);

export async function dataApiBench(tables: number): Promise<DataApiFigures> {
  console.log(`\n== Data API, dialect redshift, local endpoint in Redshift mode (${tables} tables x 20 columns, 500 policies, 200 principals) ==`);
  const dir = await mkdtemp(join(tmpdir(), "lfsync-bench-api-"));
  const server = await startPostgres();
  let api: LocalDataApi | undefined;
  try {
    const started = Date.now();
    const snapshot = generateCatalog(catalogOptions(tables));
    const file = join(dir, "snapshot.json");
    await writeFile(file, serializeSnapshot(snapshot, "json"));
    const url = await createTestDatabase(server.url);
    // The mode keeps a group as the role `g/<name>` (test/support/data-api/redshift/identities.ts), a role under its own name.
    const grantees = mapEntitlements(resolvePolicies(snapshot), mappingSchema.parse({}), "redshift").grantees;
    await runScript(url, [...roleScript(grantees.map((g) => (g.kind === "group" ? `${GROUP_PREFIX}${g.name}` : g.name))), ...tableScript(snapshot, "varchar(256)")]);
    api = await startLocalDataApi({ pgUrl: url, mode: "redshift" });
    console.log(`setup        ${Date.now() - started} ms (catalog, schemas and tables on PostgreSQL)`);
    const config = join(dir, "config.yaml");
    // Polls every 10 ms (default 250): the emulator's statement times are not Redshift's, so describe
    // counts measure the executor's polling here, and wall time stays short.
    const target = { kind: "data-api", endpoint: api.endpoint, region: "us-east-1", workgroupName: "bench", database: "dev", dialect: "redshift", pollIntervalMs: 10 };
    await writeFile(config, `source: { kind: file, path: ${JSON.stringify(file)} }\ntarget: ${JSON.stringify(target)}\nlogLevel: warn\n`);
    // Any SigV4 credentials do for the local endpoint; the phase process inherits them.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AWS_REGION: "us-east-1" });
    const first = await measuredRun(api, config, "first apply");
    const steady = await measuredRun(api, config, "steady run");
    return { tables, first, steady };
  } finally {
    await api?.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measuredRun(api: LocalDataApi, config: string, name: string): Promise<DataApiRun> {
  await api.reset();
  const result = await phase("apply", "--config", config);
  const run = { ms: result.ms ?? 0, grants: Number(result.grants ?? 0), maxRssMb: result.maxRssMb, metrics: api.metrics() };
  const m = run.metrics;
  console.log(
    `${name.padEnd(12)} ${String(run.ms).padStart(7)} ms, ${run.grants} grants, peak RSS ${run.maxRssMb} MB; calls: ${m.submitCalls} submit, ${m.describeCalls} describe, ` +
      `${m.resultCalls} result, ${m.otherCalls} other; ${m.batches} batches (${m.statements} statements); sent ${mb(m.bytesSent)} MB ` +
      `(SQL ${mb(m.sqlBytes)} MB), received ${mb(m.bytesReceived)} MB; largest result read ${mb(m.largestResultBytes)} MB (${m.largestResultRows} rows)`,
  );
  console.log(`             of which keyset pages ${m.pagedReadCalls} calls; emulation: ${m.backendQueries} PostgreSQL queries behind them (not a Redshift figure)`);
  return run;
}

/** The fewest batches the Data API allows for what the batches held: 40 statements and 100 KB each. */
export function batchFloor(m: DataApiMetrics): number {
  return Math.max(Math.ceil(m.batchStatements / MAX_BATCH_STATEMENTS), Math.ceil(m.batchSqlBytes / MAX_BATCH_BYTES.redshift));
}

/** Issue 9 item 3, checked on the figures and said plainly: met or not. */
export function checkDataApiTargets(figures: readonly DataApiFigures[]): void {
  if (figures.length === 0) return;
  console.log("\n== Data API targets (issue 9 item 3) ==");
  for (const f of figures) {
    const floor = batchFloor(f.first.metrics);
    const ratio = floor === 0 ? 1 : f.first.metrics.batches / floor;
    console.log(
      `${String(f.tables).padStart(7)} tables: first apply ${f.first.metrics.batches} batches vs a floor of ${floor} (40 statements / 100 KB each) -> ${ratio.toFixed(2)}x ` +
        `${verdict(ratio <= 1.2)} (target <= 1.2x)`,
    );
    const largest = Math.max(f.first.metrics.largestResultBytes, f.steady.metrics.largestResultBytes);
    console.log(`${" ".repeat(15)}largest result read ${mb(largest)} MB vs the 100 MB cap (${RESULT_CAP_BYTES} bytes): ${verdict(largest <= RESULT_CAP_BYTES)}`);
  }
  if (figures.length < 2) {
    console.log("steady-run growth: one size measured; give two (--data-api 2000,10000) to check that calls do not grow");
    return;
  }
  const [small, large] = [figures[0]!, figures[figures.length - 1]!];
  const m = (f: DataApiFigures): DataApiMetrics => f.steady.metrics;
  const pagedDescribes = (f: DataApiFigures): number => m(f).pagedReadDescribeCalls;
  // Submits and results besides keyset pages: what the run asks and reads. Describes: polls until a
  // statement is done, backing off x1.5 (data-api-executor.ts), so they follow how long each
  // statement runs (the logarithm of it), which is the warehouse's time, not what the run reads.
  const asked = (f: DataApiFigures): number => m(f).submitCalls + m(f).resultCalls - (m(f).pagedReadCalls - pagedDescribes(f));
  const polls = (f: DataApiFigures): number => m(f).describeCalls - pagedDescribes(f);
  const growth = asked(large) / Math.max(1, asked(small));
  console.log(
    `steady run, ${small.tables} -> ${large.tables} tables: ${asked(small)} -> ${asked(large)} submit and result calls besides keyset pages (${growth.toFixed(2)}x): ` +
      (growth <= 1.1 ? "they do not grow, paged reads aside (MET)" : "they GROW beyond the paged reads (NOT MET)"),
  );
  console.log(
    `${" ".repeat(15)}describe calls besides keyset pages ${polls(small)} -> ${polls(large)} (polling until each statement is done: they follow its run time); ` +
      `keyset pages ${m(small).pagedReadCalls} -> ${m(large).pagedReadCalls} calls`,
  );
}

function verdict(met: boolean): string {
  return met ? "MET" : "NOT MET";
}
