import type { Dialect } from "../../core/grants.js";
import { quoteLiteral } from "../../core/sql.js";
import { SyncError } from "../../errors.js";
import type { Row, SqlExecutor } from "../executor.js";

/**
 * The service trusts its state schema only when nobody else can change it (issue 13 item 1): the
 * schema and every relation in it are owned by the service's user, each relation is a plain table
 * with no triggers or rules, and nobody else holds a privilege that writes (on a table) or adds
 * objects (on the schema). Otherwise a trigger would run as the service (a superuser), or forged
 * `grant_slots` rows would make it revoke grants it never made.
 */

/** Schemas anyone may create objects in (PostgreSQL before 15, Redshift): never the state schema. */
export const FORBIDDEN_STATE_SCHEMAS: readonly string[] = ["public", "pg_catalog", "information_schema", "pg_temp"];

const PG_TABLE_WRITES = "('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES')";
const REDSHIFT_TABLE_WRITES = "('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'DROP', 'ALTER', 'REFERENCES', 'TRIGGER')";

interface TrustQueries {
  readonly user: string;
  readonly schema: string;
  readonly relations: string;
  /** Redshift: the SVV views list who else may write (PostgreSQL: `writers` columns of the rows above). */
  readonly tableWriters: string | null;
  readonly schemaWriters: string | null;
}

function trustQueries(dialect: Dialect, stateSchema: string): TrustQueries {
  const name = quoteLiteral(stateSchema, dialect);
  if (dialect === "postgres") {
    const who = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END";
    return {
      user: "SELECT current_user AS name",
      schema:
        `SELECT pg_get_userbyid(n.nspowner) AS owner, (SELECT string_agg(${who} || ' ' || a.privilege_type, ', ') FROM aclexplode(n.nspacl) a` +
        ` WHERE a.grantee <> n.nspowner AND a.privilege_type = 'CREATE') AS writers FROM pg_catalog.pg_namespace n WHERE n.nspname = ${name}`,
      relations:
        "SELECT c.relname AS name, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner," +
        " (SELECT count(*) FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers," +
        " (SELECT count(*) FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid) AS rules," +
        ` (SELECT string_agg(${who} || ' ' || a.privilege_type, ', ') FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner AND a.privilege_type IN ${PG_TABLE_WRITES}) AS writers` +
        ` FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${name} ORDER BY c.relname`,
      tableWriters: null,
      schemaWriters: null,
    };
  }
  // Redshift has no triggers or rules; owners are user ids, privileges are in the SVV views.
  const notMe = "NOT (identity_type = 'user' AND identity_name = current_user)";
  return {
    user: "SELECT current_user AS name",
    schema: `SELECT u.usename AS owner, NULL AS writers FROM pg_catalog.pg_namespace n LEFT JOIN pg_catalog.pg_user u ON u.usesysid = n.nspowner WHERE n.nspname = ${name}`,
    relations:
      "SELECT c.relname AS name, c.relkind AS kind, u.usename AS owner, 0 AS triggers, 0 AS rules, NULL AS writers" +
      " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_catalog.pg_user u ON u.usesysid = c.relowner" +
      ` WHERE n.nspname = ${name} ORDER BY c.relname`,
    tableWriters:
      "SELECT relation_name AS name, identity_type, identity_name, privilege_type FROM svv_relation_privileges" +
      ` WHERE namespace_name = ${name} AND privilege_type IN ${REDSHIFT_TABLE_WRITES} AND ${notMe}`,
    schemaWriters:
      "SELECT identity_type, identity_name, privilege_type FROM svv_schema_privileges" +
      ` WHERE namespace_name = ${name} AND privilege_type IN ('CREATE', 'ALTER', 'DROP') AND ${notMe}`,
  };
}

export interface TrustFacts {
  readonly user: string;
  /** Null when the schema does not exist yet. */
  readonly schema: { readonly owner: string | null; readonly writers: string | null } | null;
  readonly relations: readonly { readonly name: string; readonly kind: string; readonly owner: string | null; readonly triggers: number; readonly rules: number; readonly writers: string | null }[];
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Redshift's SVV rows merged into the per-object `writers` text the PostgreSQL queries return. */
function writersByName(rows: readonly Row[]): Map<string, string> {
  const writers = new Map<string, string[]>();
  for (const row of rows) {
    const key = text(row.name) ?? "";
    const list = writers.get(key) ?? [];
    list.push(`${text(row.identity_type) ?? ""} ${text(row.identity_name) ?? ""} ${text(row.privilege_type) ?? ""}`.trim());
    writers.set(key, list);
  }
  return new Map([...writers].map(([name, list]) => [name, list.join(", ")]));
}

/** What the target says about the state schema (read-only). */
export async function readTrustFacts(executor: SqlExecutor, stateSchema: string): Promise<TrustFacts> {
  const queries = trustQueries(executor.dialect, stateSchema);
  const [user] = await executor.query(queries.user);
  const [schema] = await executor.query(queries.schema);
  if (schema === undefined) return { user: text(user?.name) ?? "", schema: null, relations: [] };
  const relations = await executor.query(queries.relations);
  const tableWriters = queries.tableWriters === null ? new Map<string, string>() : writersByName(await executor.query(queries.tableWriters));
  const schemaWriters = queries.schemaWriters === null ? null : writersByName((await executor.query(queries.schemaWriters)).map((r) => ({ ...r, name: "" }))).get("");
  return {
    user: text(user?.name) ?? "",
    schema: { owner: text(schema.owner), writers: schemaWriters ?? text(schema.writers) },
    relations: relations.map((r) => ({
      name: text(r.name) ?? "",
      kind: text(r.kind) ?? "",
      owner: text(r.owner),
      triggers: Number(r.triggers ?? 0),
      rules: Number(r.rules ?? 0),
      writers: tableWriters.get(text(r.name) ?? "") ?? text(r.writers),
    })),
  };
}

/** Pure: every reason not to trust the state schema; [] when it can be trusted (or does not exist yet). */
export function trustProblems(stateSchema: string, facts: TrustFacts): string[] {
  const problems: string[] = [];
  if (FORBIDDEN_STATE_SCHEMAS.includes(stateSchema) || stateSchema.startsWith("pg_")) problems.push(`"${stateSchema}" cannot be the state schema: others may create objects in it`);
  if (facts.schema === null) return problems;
  if (facts.schema.owner !== facts.user) problems.push(`schema ${stateSchema} is owned by ${facts.schema.owner ?? "an unknown user"}, not ${facts.user}`);
  if (facts.schema.writers) problems.push(`others may create objects in schema ${stateSchema}: ${facts.schema.writers}`);
  for (const relation of facts.relations) {
    const name = `${stateSchema}.${relation.name}`;
    if (relation.kind !== "r") problems.push(`${name} is not a plain table (relkind ${relation.kind})`);
    if (relation.owner !== facts.user) problems.push(`${name} is owned by ${relation.owner ?? "an unknown user"}, not ${facts.user}`);
    if (relation.triggers > 0) problems.push(`${name} has ${relation.triggers} trigger(s)`);
    if (relation.rules > 0) problems.push(`${name} has ${relation.rules} rule(s)`);
    if (relation.writers) problems.push(`others may write to ${name}: ${relation.writers}`);
  }
  return problems;
}

/**
 * Refuses (STATE_UNTRUSTED) unless the state schema can be trusted; run before the first write to
 * it (the migrations' own INSERTs included) and again after migrating. Read-only.
 */
export async function assertStateTrusted(executor: SqlExecutor, stateSchema: string): Promise<void> {
  const problems = trustProblems(stateSchema, await readTrustFacts(executor, stateSchema));
  if (problems.length === 0) return;
  throw new SyncError(
    "STATE_UNTRUSTED",
    `refusing to use state schema ${stateSchema}: ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? `; and ${problems.length - 10} more` : ""}. ` +
      `Only the service's database user may own and write the state schema: drop or fix what is listed (as an administrator), then run again.`,
  );
}
