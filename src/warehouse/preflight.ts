import type { Dialect } from "../core/grants.js";
import { quoteLiteral } from "../core/sql.js";
import { SyncError } from "../errors.js";
import type { Row, SqlExecutor } from "./executor.js";

/**
 * Start-up check: the database user must be a superuser or own every schema and table it grants on.
 * Column grants need the owner or a superuser (aws-facts §6.2), and the SVV_* privilege views show
 * other identities completely only to a superuser or a user with SYSLOG ACCESS UNRESTRICTED
 * (§6.4, trap 11): a weaker user would diff against partial state without any error.
 */
export interface PermissionScope {
  /** Only these schemas (default: every non-system schema). */
  readonly schemas?: readonly string[];
  /** Never these (e.g. schemas the mapping excludes). */
  readonly excludeSchemas?: readonly string[];
}

export interface PermissionQueries {
  readonly user: string;
  readonly notOwned: string;
}

/** Every unowned object is counted; this many are named in the message. */
const NAMED_OBJECTS = 5;

export async function checkTargetPermissions(executor: SqlExecutor, scope: PermissionScope = {}): Promise<void> {
  const sql = permissionQueries(executor.dialect, scope);
  const user = await executor.query(sql.user);
  if (isSuperuser(user)) return;
  const notOwned = await executor.query(sql.notOwned);
  const problem = permissionProblem(executor.dialect, user, notOwned);
  if (problem !== null) throw new SyncError("TARGET_PERMISSION", problem);
}

export function permissionQueries(dialect: Dialect, scope: PermissionScope): PermissionQueries {
  const filter = (column: string): string => {
    const parts = [`${column} !~ '^pg_'`, `${column} NOT IN ('information_schema', 'catalog_history')`];
    if (scope.schemas !== undefined) parts.push(inList(column, scope.schemas, dialect, "IN"));
    if (scope.excludeSchemas !== undefined && scope.excludeSchemas.length > 0) {
      parts.push(inList(column, scope.excludeSchemas, dialect, "NOT IN"));
    }
    return parts.join(" AND ");
  };
  if (dialect === "postgres") {
    // Membership in the owning role is ownership for GRANT (PostgreSQL checks has_privs_of_role).
    return {
      user: "SELECT current_user AS user_name, rolsuper AS is_superuser FROM pg_roles WHERE rolname = current_user",
      notOwned:
        "SELECT 'schema' AS kind, nspname AS schema_name, NULL AS table_name, pg_get_userbyid(nspowner) AS owner" +
        ` FROM pg_namespace WHERE ${filter("nspname")} AND NOT pg_has_role(current_user, nspowner, 'USAGE')` +
        " UNION ALL SELECT 'table', n.nspname, c.relname, pg_get_userbyid(c.relowner)" +
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" +
        ` WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${filter("n.nspname")}` +
        " AND NOT pg_has_role(current_user, c.relowner, 'USAGE')" +
        " ORDER BY 1, 2, 3",
    };
  }
  // Redshift: pg_tables/pg_views name the owner; pg_namespace.nspowner is a user id.
  return {
    user: "SELECT usename AS user_name, usesuper AS is_superuser FROM pg_user WHERE usename = current_user",
    notOwned:
      "SELECT 'schema' AS kind, nspname AS schema_name, NULL AS table_name, u.usename AS owner" +
      " FROM pg_namespace LEFT JOIN pg_user u ON u.usesysid = nspowner" +
      ` WHERE ${filter("nspname")} AND (u.usename IS NULL OR u.usename <> current_user)` +
      " UNION ALL SELECT 'table', schemaname, tablename, tableowner FROM pg_tables" +
      ` WHERE ${filter("schemaname")} AND tableowner <> current_user` +
      " UNION ALL SELECT 'table', schemaname, viewname, viewowner FROM pg_views" +
      ` WHERE ${filter("schemaname")} AND viewowner <> current_user` +
      " ORDER BY 1, 2, 3",
  };
}

function inList(column: string, values: readonly string[], dialect: Dialect, operator: "IN" | "NOT IN"): string {
  if (values.length === 0) return operator === "IN" ? "FALSE" : "TRUE";
  return `${column} ${operator} (${values.map((v) => quoteLiteral(v, dialect)).join(", ")})`;
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
        `grant it SYSLOG ACCESS UNRESTRICTED so the SVV_* privilege views show every group and role`
      : `make it a superuser (ALTER ROLE ${name} SUPERUSER), or make it the owner or a member of the owning role (GRANT <owner> TO ${name})`;
  return (
    `${name} is not a superuser and cannot grant on ${missing}. ` +
    `Column-level grants need the table owner or a superuser. Fix: ${fix}.`
  );
}
