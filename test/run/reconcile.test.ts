import { describe, expect, it } from "vitest";
import type { CatalogSnapshot, CatalogSource } from "../../src/catalog/model.js";
import { configSchema, type Config } from "../../src/config/schema.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { quoteIdent, quoteLiteral, qualifiedName } from "../../src/core/sql.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { computePlan } from "../../src/run/compute-plan.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { reconcile } from "../../src/run/reconcile.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { catalog, database, policy, role, table } from "../support/catalog-builders.js";
import { targetBackends } from "../support/targets.js";

/** Hostile names on purpose: catalog names are untrusted input. */
const WEIRD_TABLE = 'we"ird; DROP TABLE x; --';
const WEIRD_COLUMN = 'col "1"';
const UNICODE_COLUMN = "ünïcödé naïve";
const WEIRD_GROUP = 'team "x"; --';

function phaseOne(): CatalogSnapshot {
  return catalog({
    databases: [
      database("sales", { access: "internal", domain: "sales", pii: "false" }, [
        table("orders", { access: "public" }, ["order_id", "amount", ["email", { pii: "true" }], "region"]),
        table(WEIRD_TABLE, {}, [WEIRD_COLUMN, UNICODE_COLUMN]),
        table("not_loaded_yet", {}, ["a"]),
      ]),
      database("hr", { access: "restricted", domain: "hr", pii: "false" }, [
        table("employees", {}, ["id", "name", ["salary", { pii: "true" }]]),
      ]),
    ],
    expressions: { hr_all: { domain: ["hr"] } },
    policies: [
      policy(role("analyst"), "TABLE", { access: ["public", "internal"], pii: ["false"] }, ["SELECT"]),
      policy(role("engineer"), "TABLE", { domain: ["sales"] }, ["SELECT", "INSERT"]),
      policy(role("hr_admin"), "TABLE", "hr_all", ["ALL"]),
      policy(role("auditor"), "TABLE", { pii: ["false"] }, ["SELECT", "INSERT"]),
      policy(role("analyst"), "DATABASE", { domain: ["hr"] }, ["DESCRIBE"]),
      policy("arn:aws:iam::123456789012:user/bob", "TABLE", { domain: ["sales"] }, ["SELECT"]),
      policy(role("WeirdTeam"), "TABLE", { access: ["public"] }, ["SELECT"]),
    ],
  });
}

/**
 * Tags and policies change: email loses PII and analyst may now read restricted data too (subset ->
 * full table), amount becomes restricted (the weird team goes full table -> subset), engineer's
 * policy goes, auditor narrows to hr.
 */
function phaseTwo(): CatalogSnapshot {
  const one = phaseOne();
  const [sales, hr] = one.databases;
  return {
    ...one,
    databases: [
      database("sales", sales!.tags, [
        table("orders", { access: "public" }, ["order_id", ["amount", { access: "restricted" }], "email", "region"]),
        ...sales!.tables.slice(1),
      ]),
      hr!,
    ],
    policies: [
      policy(role("analyst"), "TABLE", { access: ["public", "internal", "restricted"], pii: ["false"] }, ["SELECT"]),
      one.policies[2]!,
      policy(role("auditor"), "TABLE", { pii: ["false"], domain: ["hr"] }, ["SELECT", "INSERT"]),
      ...one.policies.slice(4),
    ],
  };
}

function sourceOf(holder: { snapshot: CatalogSnapshot }): CatalogSource {
  return { read: async () => ({ snapshot: holder.snapshot, warnings: [] }) };
}

function configFor(): Config {
  return configSchema.parse({
    source: { kind: "file", path: "unused.yaml" },
    target: { kind: "pglite" },
    mapping: { principals: { [role("WeirdTeam")]: WEIRD_GROUP } },
    safety: { maxRevokes: 500, maxRevokeRatio: 1 },
  });
}

const PRIVILEGE_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'lfsync', 'public') AND n.nspname NOT LIKE 'pg_toast%'";

/** What the database says each grantee can do, as comparable strings. */
async function actualAccess(executor: SqlExecutor, grantees: readonly string[]): Promise<string[]> {
  return executor.dialect === "redshift" ? redshiftAccess(executor, grantees) : postgresAccess(executor, grantees);
}

/** PostgreSQL: through has_*_privilege. */
async function postgresAccess(executor: SqlExecutor, grantees: readonly string[]): Promise<string[]> {
  const names = grantees.map((g) => quoteLiteral(g, executor.dialect)).join(", ");
  const tables = await executor.query(
    `SELECT r.rolname AS g, n.nspname AS s, c.relname AS t, has_table_privilege(r.oid, c.oid, 'SELECT') AS sel, has_table_privilege(r.oid, c.oid, 'INSERT') AS ins, has_table_privilege(r.oid, c.oid, 'DELETE') AS del
     FROM pg_roles r CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND r.rolname IN (${names}) AND ${PRIVILEGE_SCHEMAS}`,
  );
  const columns = await executor.query(
    `SELECT r.rolname AS g, n.nspname AS s, c.relname AS t, a.attname AS col, has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT') AS sel
     FROM pg_roles r CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relkind = 'r' AND r.rolname IN (${names}) AND ${PRIVILEGE_SCHEMAS}`,
  );
  const schemas = await executor.query(
    `SELECT r.rolname AS g, n.nspname AS s, has_schema_privilege(r.oid, n.oid, 'USAGE') AS usage, has_schema_privilege(r.oid, n.oid, 'CREATE') AS cre
     FROM pg_roles r CROSS JOIN pg_namespace n WHERE r.rolname IN (${names}) AND ${PRIVILEGE_SCHEMAS}`,
  );
  const out: string[] = [];
  for (const r of tables) {
    for (const [flag, privilege] of [["sel", "SELECT"], ["ins", "INSERT"], ["del", "DELETE"]] as const) {
      if (r[flag] === true) out.push(`${String(r.g)} | ${privilege} | ${String(r.s)}.${String(r.t)}`);
    }
  }
  for (const r of columns) if (r.sel === true) out.push(`${String(r.g)} | SELECT column | ${String(r.s)}.${String(r.t)}.${String(r.col)}`);
  for (const r of schemas) {
    if (r.usage === true) out.push(`${String(r.g)} | USAGE | ${String(r.s)}`);
    if (r.cre === true) out.push(`${String(r.g)} | CREATE | ${String(r.s)}`);
  }
  return out.sort();
}

const SVV_SCHEMAS = "namespace_name NOT IN ('pg_catalog', 'information_schema', 'lfsync', 'public')";

/**
 * Redshift: the SVV_* privilege views (explicit grants of groups and roles, aws-facts §6.4); a
 * table-level SELECT covers every column, as has_column_privilege says on PostgreSQL.
 */
async function redshiftAccess(executor: SqlExecutor, grantees: readonly string[]): Promise<string[]> {
  const names = `identity_type IN ('group', 'role') AND identity_name IN (${grantees.map((g) => quoteLiteral(g, executor.dialect)).join(", ")})`;
  const out = new Set<string>();
  const columns = await executor.query("SELECT table_schema AS s, table_name AS t, column_name AS c FROM svv_columns WHERE table_schema IN ('sales', 'hr')");
  for (const r of await executor.query(`SELECT identity_name AS g, namespace_name AS s, relation_name AS t, privilege_type AS p FROM svv_relation_privileges WHERE ${names} AND ${SVV_SCHEMAS}`)) {
    if (!["SELECT", "INSERT", "DELETE"].includes(String(r.p))) continue;
    out.add(`${String(r.g)} | ${String(r.p)} | ${String(r.s)}.${String(r.t)}`);
    if (r.p !== "SELECT") continue;
    for (const c of columns) if (c.s === r.s && c.t === r.t) out.add(`${String(r.g)} | SELECT column | ${String(r.s)}.${String(r.t)}.${String(c.c)}`);
  }
  for (const r of await executor.query(`SELECT identity_name AS g, namespace_name AS s, relation_name AS t, column_name AS c FROM svv_column_privileges WHERE privilege_type = 'SELECT' AND ${names} AND ${SVV_SCHEMAS}`)) {
    out.add(`${String(r.g)} | SELECT column | ${String(r.s)}.${String(r.t)}.${String(r.c)}`);
  }
  for (const r of await executor.query(`SELECT identity_name AS g, namespace_name AS s, privilege_type AS p FROM svv_schema_privileges WHERE ${names} AND ${SVV_SCHEMAS}`)) {
    out.add(`${String(r.g)} | ${String(r.p)} | ${String(r.s)}`);
  }
  return [...out].sort();
}

/** Redshift folds the ASCII letters of quoted names (aws-facts §6.5): the weird table is stored lower-cased. */
function asStored(executor: SqlExecutor, access: readonly string[]): string[] {
  if (executor.dialect === "postgres") return [...access];
  return access.map((entry) => entry.split(" | ")).map(([who, what, path]) => `${who} | ${what} | ${stored(executor, path!)}`).sort();
}

function stored(executor: SqlExecutor, name: string): string {
  return executor.dialect === "postgres" ? name : name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Grantee SQL for hand-written statements: Redshift names the kind (`GROUP g`), PostgreSQL does not. */
function groupSql(executor: SqlExecutor, name: string): string {
  return executor.dialect === "redshift" ? `GROUP ${quoteIdent(name)}` : quoteIdent(name);
}

/** What the resolver promised, in the same form, for objects that exist in the target. */
function promisedAccess(snapshot: CatalogSnapshot, config: Config, existingTables: ReadonlySet<string>): string[] {
  const desired = mapEntitlements(resolvePolicies(snapshot), config.mapping, "postgres");
  const columnsOf = new Map<string, string[]>(snapshot.databases.flatMap((d) => d.tables.map((t) => [`${d.name}.${t.name}`, t.columns.map((c) => c.name)] as const)));
  const out = new Set<string>();
  for (const g of desired.grants) {
    const name = g.grantee.name;
    if (g.object.table === null) {
      out.add(`${name} | ${g.privilege} | ${g.object.schema}`);
      continue;
    }
    const path = `${g.object.schema}.${g.object.table}`;
    if (!existingTables.has(path)) continue;
    if (g.object.columns === null) {
      out.add(`${name} | ${g.privilege} | ${path}`);
      if (g.privilege === "SELECT") for (const c of columnsOf.get(path) ?? []) out.add(`${name} | SELECT column | ${path}.${c}`);
    } else {
      for (const c of g.object.columns) out.add(`${name} | SELECT column | ${path}.${c}`);
    }
  }
  return [...out].sort();
}

const GRANTEES = ["analyst", "engineer", "hr_admin", "auditor", WEIRD_GROUP, "outsider"];
const EXISTING = new Set(["sales.orders", `sales.${WEIRD_TABLE}`, "hr.employees"]);

/** A target mirroring phase one's catalog (one table not loaded yet), and what a run needs. */
async function openScenario(backend: ReturnType<typeof targetBackends>[number]) {
  const executor = await backend.open();
  const config = configFor();
  const holder = { snapshot: phaseOne() };
  const grantees = mapEntitlements(resolvePolicies(holder.snapshot), config.mapping, "postgres").grantees;
  try {
    await mirrorCatalog(executor, holder.snapshot, grantees, new Set(["sales.not_loaded_yet"]));
  } catch (error) {
    await executor.close();
    throw error;
  }
  return { executor, config, lock: createMemoryLock(), logger: createLogger("silent"), holder, source: sourceOf(holder) };
}

describe.each(targetBackends())("reconcile against $name", (backend) => {
  it("applies exactly what Lake Formation allows, converges, repairs drift and leaves manual grants alone", async () => {
    const { executor, config, lock, logger, holder, source } = await openScenario(backend);
    try {
      // Roles are cluster-wide: the server and Data API backends share one PostgreSQL server.
      const redshift = executor.dialect === "redshift";
      if ((await executor.query(redshift ? "SELECT 1 FROM pg_group WHERE groname = 'outsider'" : "SELECT 1 FROM pg_roles WHERE rolname = 'outsider'")).length === 0) {
        await executor.transaction([redshift ? "CREATE GROUP outsider" : "CREATE ROLE outsider NOLOGIN"]);
      }

      // Before the state schema exists, plan is read-only and sees nothing recorded.
      const before = await computePlan({ config, source, executor });
      expect(before.plan.summary.revokes).toBe(0);
      expect(before.plan.pending.map((p) => `${p.object.schema}.${p.object.table}`)).toContain("sales.not_loaded_yet");
      expect(before.plan.warnings.join("\n")).toContain("user/bob has no grantee mapping");

      const first = await reconcile({ config, source, executor, lock, logger });
      expect(first.error).toBeNull();
      expect(first.status).toBe("succeeded");
      expect(await actualAccess(executor, GRANTEES)).toEqual(asStored(executor, promisedAccess(holder.snapshot, config, EXISTING)));
      // Hand-written facts, independent of the resolver: the column-level PII tag keeps email out.
      const access = await actualAccess(executor, GRANTEES);
      expect(access).not.toContain("analyst | SELECT | sales.orders");
      expect(access).toContain("analyst | SELECT column | sales.orders.amount");
      expect(access).not.toContain("analyst | SELECT column | sales.orders.email");
      expect(access).not.toContain("auditor | INSERT | sales.orders");
      expect(access).toContain(`${WEIRD_GROUP} | SELECT | sales.orders`);
      expect(access).toContain("hr_admin | DELETE | hr.employees");

      const again = await computePlan({ config, source, executor });
      expect(again.plan.changes).toEqual([]);
      expect(again.plan.summary.stateOnly).toBe(0);

      // Drift: a recorded grant removed by hand is granted again.
      await executor.transaction([`REVOKE SELECT ON ${qualifiedName("sales", WEIRD_TABLE)} FROM ${groupSql(executor, "analyst")}`]);
      const drift = await computePlan({ config, source, executor });
      expect(drift.plan.changes.map((c) => `${c.op} ${c.reason} ${c.object.table}`)).toEqual([`grant grantBecauseDriftRepair ${stored(executor, WEIRD_TABLE)}`]);

      // Grants made outside the service, to a managed and an unmanaged grantee.
      await executor.transaction([
        `GRANT DELETE ON ${qualifiedName("sales", "orders")} TO ${groupSql(executor, "analyst")}`,
        `GRANT USAGE ON SCHEMA hr TO ${groupSql(executor, "outsider")}`,
        `GRANT SELECT ON ${qualifiedName("hr", "employees")} TO ${groupSql(executor, "outsider")}`,
      ]);
      holder.snapshot = phaseTwo();
      const second = await reconcile({ config, source, executor, lock, logger });
      expect(second.error).toBeNull();
      const manual = ["analyst | DELETE | sales.orders", "outsider | USAGE | hr", "outsider | SELECT | hr.employees", ...["id", "name", "salary"].map((c) => `outsider | SELECT column | hr.employees.${c}`)];
      expect(await actualAccess(executor, GRANTEES)).toEqual([...asStored(executor, promisedAccess(holder.snapshot, config, EXISTING)), ...manual].sort());
      // analyst moved from a column subset to the whole table; the weird team the other way.
      const after = await actualAccess(executor, GRANTEES);
      expect(after).toContain("analyst | SELECT | sales.orders");
      expect(after).not.toContain(`${WEIRD_GROUP} | SELECT | sales.orders`);
      expect(after).not.toContain(`${WEIRD_GROUP} | SELECT column | sales.orders.amount`);
      expect(after.filter((a) => a.startsWith("engineer"))).toEqual([]);

      const converged = await computePlan({ config, source, executor });
      expect(converged.plan.changes).toEqual([]);
      const runs = await executor.query(`SELECT status FROM ${quoteIdent("lfsync")}.runs ORDER BY started_at`);
      expect(runs.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    } finally {
      await lock.close();
      await executor.close();
    }
  });
});
