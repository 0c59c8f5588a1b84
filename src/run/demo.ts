import type { CatalogSnapshot } from "../catalog/model.js";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { compareStrings, granteeKey, type Grant, type Grantee } from "../core/grants.js";
import { mapEntitlements } from "../core/map.js";
import { resolvePolicies } from "../core/resolve.js";
import { qualifiedName, quoteIdent, quoteLiteral } from "../core/sql.js";
import { SyncError } from "../errors.js";
import { createLogger } from "../log.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { applyCommand } from "./commands/apply.js";
import { openSource, openTarget, readInventory } from "./wiring.js";

/**
 * Tables of the demo catalog that the demo warehouse does not have yet ("not loaded"), so the plan
 * shows them as pending.
 */
export const DEMO_NOT_LOADED = new Set(["fund_data.holdings_staging"]);

/**
 * `npm start`: mirror the demo catalog into the embedded PGlite database (schemas, tables, columns,
 * groups), then plan + apply like the scheduled task, then show the grants Redshift would now hold.
 * A second run finds nothing to change.
 */
export async function demoCommand(configPath: string): Promise<number> {
  const config = await loadConfig(configPath);
  if (config.target.kind === "data-api") throw new SyncError("CONFIG_INVALID", "the demo runs against pglite or postgres targets only");
  const { snapshot } = await openSource(config).read();
  const grantees = mapEntitlements(resolvePolicies(snapshot), config.mapping, "postgres").grantees;
  const setup = await openTarget(config);
  try {
    const created = await mirrorCatalog(setup, snapshot, grantees, DEMO_NOT_LOADED);
    process.stdout.write(created > 0 ? `Demo warehouse: created ${created} objects mirroring ${configPath}'s catalog.\n\n` : "Demo warehouse already mirrors the catalog.\n\n");
  } finally {
    await setup.close();
  }
  const code = await applyCommand(config, { yes: true, force: false, command: "demo", logger: createLogger("warn") });
  if (code !== 0) return code;
  await printHeldGrants(config, grantees);
  return 0;
}

/** Creates what is missing: schemas, tables (text columns), and a group per grantee. Returns how many objects it created. */
export async function mirrorCatalog(executor: SqlExecutor, snapshot: CatalogSnapshot, grantees: readonly Grantee[], skip: ReadonlySet<string>): Promise<number> {
  const existing = await executor.query(
    "SELECT n.nspname AS schema_name, c.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','v','p')",
  );
  const tables = new Set(existing.map((r) => `${String(r.schema_name)}.${String(r.table_name)}`));
  const statements = await missingGrantees(executor, grantees);
  for (const db of snapshot.databases) {
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(db.name)}`);
    for (const table of db.tables) {
      const name = `${db.name}.${table.name}`;
      if (skip.has(name) || tables.has(name) || table.columns.length === 0) continue;
      statements.push(`CREATE TABLE ${qualifiedName(db.name, table.name)} (${table.columns.map((c) => `${quoteIdent(c.name)} text`).join(", ")})`);
    }
  }
  const creates = statements.filter((s) => !s.startsWith("CREATE SCHEMA IF NOT EXISTS")).length;
  await executor.transaction(statements);
  return creates;
}

/**
 * CREATE statements for grantees that do not exist. Redshift keeps groups and roles apart
 * (`CREATE GROUP g`, `CREATE ROLE r`, aws-facts §6.3); PostgreSQL has one kind, a NOLOGIN role.
 */
async function missingGrantees(executor: SqlExecutor, grantees: readonly Grantee[]): Promise<string[]> {
  if (executor.dialect === "postgres") {
    const roles = new Set((await executor.query("SELECT rolname FROM pg_roles")).map((r) => String(r.rolname)));
    return grantees.filter((g) => !roles.has(g.name)).map((g) => `CREATE ROLE ${quoteIdent(g.name)} NOLOGIN`);
  }
  const existing = await executor.query("SELECT 'group' AS kind, groname AS name FROM pg_group UNION ALL SELECT 'role' AS kind, role_name AS name FROM svv_roles");
  const known = new Set(existing.map((r) => `${String(r.kind)}:${String(r.name)}`));
  return grantees
    .filter((g) => !known.has(`${g.kind}:${g.name}`))
    .map((g) => `CREATE ${g.kind === "group" ? "GROUP" : "ROLE"} ${quoteIdent(g.name)}`);
}

async function printHeldGrants(config: Config, grantees: readonly Grantee[]): Promise<void> {
  const executor = await openTarget(config);
  try {
    const inventory = await readInventory(executor, { grantees, excludeSchemas: [config.stateSchema] });
    const byGrantee = new Map<string, Grant[]>();
    for (const grant of inventory.held) {
      if (grant.grantee.kind !== "group") continue; // PostgreSQL lists each role under both kinds
      const list = byGrantee.get(granteeKey(grant.grantee)) ?? [];
      list.push(grant);
      byGrantee.set(granteeKey(grant.grantee), list);
    }
    process.stdout.write("\nGrants held now (read back from the database):\n");
    for (const key of [...byGrantee.keys()].sort(compareStrings)) {
      process.stdout.write(`  ${key.replace(":", " ")}\n`);
      const lines = byGrantee.get(key)!.map((g) => {
        const columns = g.object.columns === null ? "" : ` (${g.object.columns.join(", ")})`;
        return g.object.table === null ? `${g.privilege} ON SCHEMA ${g.object.schema}` : `${g.privilege}${columns} ON ${g.object.schema}.${g.object.table}`;
      });
      for (const line of lines.sort(compareStrings)) process.stdout.write(`    ${line}\n`);
    }
    const runs = await executor.query(`SELECT count(*) AS n FROM ${quoteIdent(config.stateSchema)}.runs WHERE status = ${quoteLiteral("succeeded", executor.dialect)}`);
    process.stdout.write(`\n${String(runs[0]?.n ?? 0)} successful run(s) recorded in ${config.stateSchema}.runs. Run \`npm start\` again: the plan shows no changes.\n`);
  } finally {
    await executor.close();
  }
}
