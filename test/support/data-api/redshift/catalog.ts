/**
 * Redshift's system views, as views over the PostgreSQL catalog in schema `pg_redshift` (hidden by
 * the `pg_` prefix, like Redshift's pg_internal). Columns as documented on each view's page,
 * https://docs.aws.amazon.com/redshift/latest/dg/r_<VIEW>.html. Groups are PostgreSQL roles named
 * `g/<group>` (identities.ts); DROP and ALTER, which PostgreSQL lacks, live in extra_privileges.
 * Visibility (aws-facts §6.4, https://docs.aws.amazon.com/redshift/latest/dg/cm_chap_system-tables.html#c_visibility-of-data):
 * a superuser or a holder of ACCESS SYSTEM TABLE / SYSLOG ACCESS UNRESTRICTED sees every identity;
 * anyone else only the identities it is or belongs to.
 */
import { privilegeViewStatements } from "./privilege-views.js";

export const SHIM = "pg_redshift";

/** Names a client may write unqualified (or as pg_catalog.<name>) that mean a shim view. */
export const SHIM_VIEWS = new Set([
  "svv_relation_privileges", "svv_column_privileges", "svv_schema_privileges", "svv_roles", "svv_columns",
  "svv_external_schemas", "svl_user_info", "pg_group", "svv_system_privileges", "pg_get_late_binding_view_cols",
]);

const visible = (oid: string): string => `((SELECT ${SHIM}.unrestricted()) OR ${oid} = 0 OR pg_has_role(current_user, ${oid}, 'MEMBER'))`;

const TABLES = [
  `CREATE TABLE IF NOT EXISTS ${SHIM}.extra_privileges (relid oid NOT NULL, privilege varchar(16) NOT NULL, grantee oid NOT NULL, PRIMARY KEY (relid, privilege, grantee))`,
  `CREATE TABLE IF NOT EXISTS ${SHIM}.external_schemas (nspoid oid PRIMARY KEY, databasename varchar(256) NOT NULL, options varchar(4096))`,
  `CREATE TABLE IF NOT EXISTS ${SHIM}.late_binding_views (relid oid PRIMARY KEY)`,
  `CREATE TABLE IF NOT EXISTS ${SHIM}.system_access (roleid oid PRIMARY KEY)`,
  `CREATE OR REPLACE FUNCTION ${SHIM}.unrestricted() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
      OR EXISTS (SELECT 1 FROM ${SHIM}.system_access a JOIN pg_roles r ON r.oid = a.roleid WHERE pg_has_role(current_user, r.oid, 'MEMBER'))$$`,
  `CREATE OR REPLACE FUNCTION ${SHIM}.fail(message text) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION '%', message; END$$`,
];

const ROLES = `CREATE OR REPLACE VIEW ${SHIM}.svv_roles AS
  SELECT r.oid::int AS role_id, r.rolname::varchar AS role_name, NULL::varchar AS role_owner, NULL::varchar AS external_id
  FROM pg_roles r
  WHERE NOT r.rolcanlogin AND r.rolname NOT LIKE 'g/%' AND r.rolname !~ '^pg_' AND ${visible("r.oid")}`;

const GROUPS = `CREATE OR REPLACE VIEW ${SHIM}.pg_group AS
  SELECT substr(r.rolname, 3)::name AS groname, r.oid::int AS grosysid,
    ARRAY(SELECT m.member::int FROM pg_auth_members m WHERE m.roleid = r.oid) AS grolist
  FROM pg_roles r WHERE r.rolname LIKE 'g/%'`;

const COLUMNS = `CREATE OR REPLACE VIEW ${SHIM}.svv_columns AS
  SELECT current_database()::varchar AS table_catalog, n.nspname::varchar AS table_schema, c.relname::varchar AS table_name,
    a.attname::varchar AS column_name, a.attnum::int AS ordinal_position, pg_get_expr(d.adbin, d.adrelid)::varchar AS column_default,
    (CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END)::varchar AS is_nullable, format_type(a.atttypid, a.atttypmod)::varchar AS data_type,
    (CASE WHEN a.atttypid IN (1042, 1043) AND a.atttypmod > 0 THEN a.atttypmod - 4 END)::int AS character_maximum_length,
    (CASE WHEN a.atttypid = 1700 AND a.atttypmod > 0 THEN ((a.atttypmod - 4) >> 16) & 65535 END)::int AS numeric_precision,
    (CASE WHEN a.atttypid = 1700 THEN 10 END)::int AS numeric_precision_radix,
    (CASE WHEN a.atttypid = 1700 AND a.atttypmod > 0 THEN (a.atttypmod - 4) & 65535 END)::int AS numeric_scale,
    NULL::int AS datetime_precision, NULL::varchar AS interval_type, NULL::varchar AS interval_precision,
    NULL::varchar AS character_set_catalog, NULL::varchar AS character_set_schema, NULL::varchar AS character_set_name,
    NULL::varchar AS collation_catalog, NULL::varchar AS collation_schema, NULL::varchar AS collation_name,
    NULL::varchar AS domain_name, col_description(c.oid, a.attnum)::varchar AS remarks
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname <> '${SHIM}'`;

const EXTERNAL_SCHEMAS = `CREATE OR REPLACE VIEW ${SHIM}.svv_external_schemas AS
  SELECT n.oid::int AS esoid, 1::smallint AS eskind, n.nspname::varchar AS schemaname, n.nspowner::int AS esowner,
    e.databasename::varchar AS databasename, e.options::varchar AS esoptions
  FROM ${SHIM}.external_schemas e JOIN pg_namespace n ON n.oid = e.nspoid`;

/** r_SVV_SYSTEM_PRIVILEGES: ACCESS SYSTEM TABLE holders; a restricted user sees its own identities' rows. */
const SYSTEM_PRIVILEGES = `CREATE OR REPLACE VIEW ${SHIM}.svv_system_privileges AS
  SELECT 'ACCESS SYSTEM TABLE'::varchar AS system_privilege, r.oid::int AS identity_id, r.rolname::varchar AS identity_name,
    (CASE WHEN r.rolcanlogin THEN 'user' ELSE 'role' END)::varchar AS identity_type
  FROM ${SHIM}.system_access s JOIN pg_roles r ON r.oid = s.roleid
  WHERE ${visible("r.oid")}`;

/** PG_GET_LATE_BINDING_VIEW_COLS(): a record per column of every late-binding view (schema, view, column, type, number). */
const LATE_BINDING_VIEW_COLS = `CREATE OR REPLACE FUNCTION ${SHIM}.pg_get_late_binding_view_cols() RETURNS SETOF record LANGUAGE sql STABLE AS $$
  SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)::varchar, a.attnum::int
  FROM ${SHIM}.late_binding_views l JOIN pg_class c ON c.oid = l.relid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped $$`;

/** r_SVL_USER_INFO: "visible only to superusers". */
const USER_INFO = `CREATE OR REPLACE VIEW ${SHIM}.svl_user_info AS
  SELECT r.rolname::varchar AS usename, r.oid::int AS usesysid, r.rolcreatedb AS usecreatedb, r.rolsuper AS usesuper,
    false AS usecatupd, r.rolconnlimit AS useconnlimit,
    (CASE WHEN EXISTS (SELECT 1 FROM ${SHIM}.system_access s WHERE s.roleid = r.oid) THEN 'UNRESTRICTED' ELSE 'RESTRICTED' END)::varchar AS syslogaccess,
    NULL::timestamp AS last_ddl_ts, 0 AS sessiontimeout, NULL::varchar AS external_user_id
  FROM pg_roles r
  WHERE r.rolcanlogin AND coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)`;

/** The statements that install the shim; run once by the backend's superuser, in one transaction. */
export function shimStatements(): string[] {
  return [
    "SET LOCAL allow_system_table_mods = on",
    `CREATE SCHEMA IF NOT EXISTS ${SHIM}`,
    ...TABLES,
    ...privilegeViewStatements(),
    ROLES,
    GROUPS,
    COLUMNS,
    EXTERNAL_SCHEMAS,
    USER_INFO,
    SYSTEM_PRIVILEGES,
    LATE_BINDING_VIEW_COLS,
    `GRANT USAGE ON SCHEMA ${SHIM} TO PUBLIC`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${SHIM} TO PUBLIC`,
    `GRANT INSERT, DELETE ON ${SHIM}.extra_privileges, ${SHIM}.late_binding_views TO PUBLIC`,
  ];
}
