import type { Dialect } from "../core/grants.js";
import { literalChunks } from "./bounded-reads.js";
import { SyncError } from "../errors.js";
import type { Row, SqlExecutor } from "./executor.js";

/**
 * Start-up check: the database user must be a superuser or own every schema and table it grants on.
 * Column grants need the owner or a superuser (aws-facts §6.2). On Redshift the SVV_* privilege
 * views show other identities only to a superuser or a holder of ACCESS SYSTEM TABLE (§6.4, trap
 * 11): a weaker user would see no held grants, skip every revoke and forget its state rows, so the
 * privilege would stay forever. Such a user is refused. SVL_USER_INFO shows no rows to a
 * non-superuser, so visibility is read from SVV_SYSTEM_PRIVILEGES, which shows a user its own rows.
 */
export interface PermissionScope {
  /** Only these schemas (default: every non-system schema). */
  readonly schemas?: readonly string[];
  /** Never these (e.g. schemas the mapping excludes). */
  readonly excludeSchemas?: readonly string[];
}

export interface PermissionQueries {
  readonly user: string;
  /** Redshift: rows while the user holds ACCESS SYSTEM TABLE (itself or through a role); null for PostgreSQL. */
  readonly visibility: string | null;
  /** One query per chunk of the scope's schema list (each under the statement limit). */
  readonly notOwned: readonly string[];
}

const SCHEMA_LIST_BYTES = 30_000;

/** Every unowned object is counted; this many are named in the message. */
const NAMED_OBJECTS = 5;

export async function checkTargetPermissions(executor: SqlExecutor, scope: PermissionScope = {}): Promise<void> {
  const sql = permissionQueries(executor.dialect, scope);
  const user = await executor.query(sql.user);
  if (isSuperuser(user)) return;
  await checkVisibility(executor, sql, user);
  const notOwned = (await Promise.all(sql.notOwned.map((q) => executor.query(q)))).flat();
  const problem = permissionProblem(executor.dialect, user, notOwned);
  if (problem !== null) throw new SyncError("TARGET_PERMISSION", problem);
}

/**
 * The visibility half of checkTargetPermissions, for every read of Redshift's privileges (a plan
 * too, not only an apply): a plan made from a partial view forgets the state rows of grants it
 * cannot see, and those privileges then stay forever (aws-facts §6.4, trap 11). No-op on PostgreSQL.
 */
export async function checkPrivilegeVisibility(executor: SqlExecutor): Promise<void> {
  if (executor.dialect !== "redshift") return;
  const sql = permissionQueries(executor.dialect, { schemas: [] });
  const user = await executor.query(sql.user);
  if (!isSuperuser(user)) await checkVisibility(executor, sql, user);
}

async function checkVisibility(executor: SqlExecutor, sql: PermissionQueries, user: readonly Row[]): Promise<void> {
  if (sql.visibility !== null && (await executor.query(sql.visibility)).length === 0) {
    throw new SyncError("TARGET_PERMISSION", visibilityProblem(user));
  }
}

export function permissionQueries(dialect: Dialect, scope: PermissionScope): PermissionQueries {
  // The scope's schema list may be long (every mapped schema): one query per chunk of it, each
  // chunk named three times in a query, so a third of a statement's room.
  const chunks: (string[] | null)[] = scope.schemas === undefined ? [null] : literalChunks(scope.schemas, dialect, SCHEMA_LIST_BYTES).map((list) => [list]);
  if (chunks.length === 0) chunks.push([]);
  const queries = (render: (filter: (column: string) => string) => string): string[] =>
    chunks.map((chunk) => render((column) => schemaFilter(column, chunk, scope.excludeSchemas ?? [], dialect)));
  if (dialect === "postgres") {
    // Membership in the owning role is ownership for GRANT (PostgreSQL checks has_privs_of_role).
    return {
      user: "SELECT current_user AS user_name, rolsuper AS is_superuser FROM pg_roles WHERE rolname = current_user",
      visibility: null,
      notOwned: queries((filter) =>
        "SELECT 'schema' AS kind, nspname AS schema_name, NULL AS table_name, pg_get_userbyid(nspowner) AS owner" +
        ` FROM pg_namespace WHERE ${filter("nspname")} AND NOT pg_has_role(current_user, nspowner, 'USAGE')` +
        " UNION ALL SELECT 'table', n.nspname, c.relname, pg_get_userbyid(c.relowner)" +
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" +
        ` WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${filter("n.nspname")}` +
        " AND NOT pg_has_role(current_user, c.relowner, 'USAGE')" +
        " ORDER BY 1, 2, 3",
      ),
    };
  }
  // Redshift: pg_tables/pg_views name the owner; pg_namespace.nspowner is a user id.
  return {
    user: "SELECT usename AS user_name, usesuper AS is_superuser FROM pg_user WHERE usename = current_user",
    visibility: "SELECT identity_name FROM svv_system_privileges WHERE system_privilege = 'ACCESS SYSTEM TABLE' LIMIT 1",
    notOwned: queries((filter) =>
      "SELECT 'schema' AS kind, nspname AS schema_name, NULL AS table_name, u.usename AS owner" +
      " FROM pg_namespace LEFT JOIN pg_user u ON u.usesysid = nspowner" +
      ` WHERE ${filter("nspname")} AND (u.usename IS NULL OR u.usename <> current_user)` +
      " UNION ALL SELECT 'table', schemaname, tablename, tableowner FROM pg_tables" +
      ` WHERE ${filter("schemaname")} AND tableowner <> current_user` +
      " UNION ALL SELECT 'table', schemaname, viewname, viewowner FROM pg_views" +
      ` WHERE ${filter("schemaname")} AND viewowner <> current_user` +
      " ORDER BY 1, 2, 3",
    ),
  };
}

/** System schemas out; `only`: null for every schema, else one chunk of literals ([] for none). */
function schemaFilter(column: string, only: readonly string[] | null, exclude: readonly string[], dialect: Dialect): string {
  const parts = [`${column} !~ '^pg_'`, `${column} NOT IN ('information_schema', 'catalog_history')`];
  if (only !== null) parts.push(only.length === 0 ? "FALSE" : `${column} IN (${only[0]!})`);
  for (const list of literalChunks(exclude, dialect)) parts.push(`${column} NOT IN (${list})`);
  return parts.join(" AND ");
}

function visibilityProblem(user: readonly Row[]): string {
  const name = typeof user[0]?.user_name === "string" ? user[0].user_name : "the database user";
  return (
    `${name} is neither a superuser nor holds ACCESS SYSTEM TABLE, so the SVV_* privilege views show it only the groups and ` +
    `roles it belongs to: grants held by the others would look absent, and their revokes would be skipped. ` +
    `Fix: GRANT ACCESS SYSTEM TABLE TO ${name} (or to a role it holds), or make it a superuser (ALTER USER ${name} CREATEUSER).`
  );
}

function isSuperuser(user: readonly Row[]): boolean {
  const value = user[0]?.is_superuser;
  return value === true || value === "t" || value === "true";
}

/** Pure: the rows of the two queries -> null when the user can do the job, else what is missing. */
export function permissionProblem(dialect: Dialect, user: readonly Row[], notOwned: readonly Row[]): string | null {
  const name = typeof user[0]?.user_name === "string" ? user[0].user_name : "the database user";
  if (isSuperuser(user)) return null;
  if (notOwned.length === 0) return null;
  const schemas = notOwned.filter((r) => r.kind === "schema");
  const tables = notOwned.filter((r) => r.kind !== "schema");
  const describe = (rows: readonly Row[], what: string): string => {
    const named = rows
      .slice(0, NAMED_OBJECTS)
      .map((r) => `${r.table_name === null ? String(r.schema_name) : `${String(r.schema_name)}.${String(r.table_name)}`} (owner ${String(r.owner ?? "unknown")})`);
    const more = rows.length > NAMED_OBJECTS ? `, and ${rows.length - NAMED_OBJECTS} more` : "";
    return `${rows.length} ${what}${rows.length === 1 ? "" : "s"} it does not own: ${named.join(", ")}${more}`;
  };
  const missing = [schemas.length > 0 ? describe(schemas, "schema") : null, tables.length > 0 ? describe(tables, "table") : null]
    .filter((part) => part !== null)
    .join("; ");
  const fix =
    dialect === "redshift"
      ? `make it a superuser (ALTER USER ${name} CREATEUSER), or transfer ownership (ALTER TABLE ... OWNER TO ${name}) and also ` +
        `grant it ACCESS SYSTEM TABLE so the SVV_* privilege views show every group and role`
      : `make it a superuser (ALTER ROLE ${name} SUPERUSER), or make it the owner or a member of the owning role (GRANT <owner> TO ${name})`;
  return (
    `${name} is not a superuser and cannot grant on ${missing}. ` +
    `Column-level grants need the table owner or a superuser. Fix: ${fix}.`
  );
}
