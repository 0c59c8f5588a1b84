import { parse as parseConnectionString } from "pg-connection-string";
import type { CatalogSource } from "../catalog/model.js";
import { createAwsSource } from "../catalog/aws-source.js";
import { createFileSource } from "../catalog/file-source.js";
import { checkAwsSourceAdmin } from "../catalog/lf-admin-check.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import { createDynamoDbLock } from "../lock/dynamodb-lock.js";
import type { RunLock } from "../lock/lock.js";
import { createMemoryLock } from "../lock/memory-lock.js";
import { createDataApiExecutor } from "../warehouse/data-api-executor.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { readPostgresInventory } from "../warehouse/inventory-postgres.js";
import { readRedshiftInventory } from "../warehouse/inventory-redshift.js";
import type { InventoryRequest, TargetInventory } from "../warehouse/inventory-model.js";
import { createPgliteExecutor, createPostgresExecutor } from "../warehouse/postgres-executor.js";
import { checkPrivilegeVisibility } from "../warehouse/preflight.js";

/** The adapters a config asks for: the only place that knows every kind of source, target and lock. */
export function openSource(config: Config): CatalogSource {
  const source = config.source;
  return source.kind === "file" ? createFileSource(source.path) : createAwsSource(source);
}

/**
 * Before plan, apply/reconcile and serve read anything: the aws source's role must be a Lake
 * Formation (read-only) administrator, or it sees a partial catalog (source.adminCheck).
 */
export async function checkSource(config: Config, logger: Logger): Promise<void> {
  if (config.source.kind === "aws") await checkAwsSourceAdmin(config.source, logger);
}

export async function openTarget(config: Config): Promise<SqlExecutor> {
  const target = config.target;
  switch (target.kind) {
    case "postgres":
      return createPostgresExecutor(target.url, target);
    case "pglite":
      return createPgliteExecutor(target.dataDir === undefined ? {} : { dataDir: target.dataDir });
    case "data-api":
      return createDataApiExecutor(target);
  }
}

export function openLock(config: Config): RunLock {
  const lock = config.lock;
  return lock.kind === "memory" ? createMemoryLock() : createDynamoDbLock(lock);
}

/** A stable name for the target, used as the lease key: two configs on one target share a lease. */
export function targetKey(config: Config): string {
  const t = config.target;
  switch (t.kind) {
    case "postgres":
      return `${postgresServerKey(t.url)}#${config.stateSchema}`;
    case "pglite":
      return `pglite:${t.dataDir ?? "memory"}#${config.stateSchema}`;
    case "data-api":
      return `redshift:${t.clusterIdentifier ?? t.workgroupName}/${t.database}#${config.stateSchema}`;
  }
}

/**
 * `postgres://host:port/database` of a connection string, parsed the way `pg` parses it
 * (pg-connection-string), so socket forms (`?host=/run/postgresql`, `socket:/path?db=`, `%2F` hosts)
 * work as they do for the executor; `new URL()` rejects some of them and loses the socket of others.
 */
export function postgresServerKey(url: string): string {
  const parsed = parseConnectionString(url);
  const host = parsed.host || process.env.PGHOST || "localhost";
  const database = parsed.database || process.env.PGDATABASE || parsed.user || "";
  return `postgres://${host.startsWith("/") ? host : host.toLowerCase()}:${parsed.port || process.env.PGPORT || "5432"}/${database}`;
}

/**
 * What the target holds. On Redshift, only from a user who sees every identity's privileges
 * (checkPrivilegeVisibility, read alongside): anything else is refused (TARGET_PERMISSION).
 */
export async function readInventory(executor: SqlExecutor, request: InventoryRequest): Promise<TargetInventory> {
  if (executor.dialect !== "redshift") return readPostgresInventory(executor, request);
  const visible = checkPrivilegeVisibility(executor);
  visible.catch(() => undefined); // awaited below; the inventory's own failure must not leave it unhandled
  const inventory = await readRedshiftInventory(executor, request);
  await visible;
  return inventory;
}
