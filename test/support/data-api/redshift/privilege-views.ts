/**
 * SVV_RELATION_PRIVILEGES, SVV_COLUMN_PRIVILEGES and SVV_SCHEMA_PRIVILEGES over PostgreSQL's ACLs
 * (columns as documented on r_SVV_RELATION_PRIVILEGES.html, r_SVV_COLUMN_PRIVILEGES.html,
 * r_SVV_SCHEMA_PRIVILEGES.html), with Redshift's visibility (catalog.ts). Each view is two branches:
 * grants to a user, group or role (visible to an unrestricted user, or to a member), and grants to
 * PUBLIC (grantee 0, visible to all). Written so that a filter on the schema reaches pg_namespace, and
 * one on the relation name pg_class, before the ACLs are expanded: the inventory reads these views a
 * few schemas at a time in keyset pages, and a page must not cost a full expansion of every ACL.
 */
import { SHIM } from "./catalog.js";

/**
 * aclexplode, keeping the privileges asked for. PL/pgSQL on purpose: it is not inlined, so the planner
 * takes its ROWS estimate (aclexplode's own, once filtered, is ~1 row per ACL and leads it to nested
 * loops over every ACL entry).
 */
const aclItems = (): string => `CREATE OR REPLACE FUNCTION ${SHIM}.acl_items(acl aclitem[], privileges text[])
  RETURNS TABLE (grantee oid, privilege_type text, is_grantable boolean) LANGUAGE plpgsql STABLE ROWS 10 AS $$
  BEGIN RETURN QUERY SELECT a.grantee, a.privilege_type, a.is_grantable FROM aclexplode(acl) a WHERE a.privilege_type = ANY (privileges); END $$`;

interface Branch {
  /** The view's leading columns (before the identity). */
  readonly select: string;
  /** FROM ... naming the ACL rows `a` (with a.grantee). */
  readonly from: string;
  readonly where: string;
  /** Columns after the identity (admin_option), with a leading comma, or "". */
  readonly tail: string;
}

/**
 * A grantee that is a role: identity from pg_roles, looked up after the ACL rows are expanded. A
 * LATERAL subquery with OFFSET 0 is never flattened, so the planner cannot put pg_roles first: with
 * 200 grantees and 100k tables its estimates made pg_roles the outer loop, and every page of a
 * schema expanded the schema's ACLs once per grantee (50 s a page instead of 1).
 */
function byRole(b: Branch): string {
  return `SELECT ${b.select}, r.oid::int AS identity_id,
      (CASE WHEN r.rolname LIKE 'g/%' THEN substr(r.rolname, 3) ELSE r.rolname END)::varchar AS identity_name,
      (CASE WHEN r.rolname LIKE 'g/%' THEN 'group' WHEN r.rolcanlogin THEN 'user' ELSE 'role' END)::varchar AS identity_type${b.tail}
    FROM ${b.from}, LATERAL (SELECT p.oid, p.rolname, p.rolcanlogin FROM pg_roles p WHERE p.oid = a.grantee OFFSET 0) r
    WHERE ${b.where} AND ((SELECT ${SHIM}.unrestricted()) OR pg_has_role(current_user, r.oid, 'MEMBER'))`;
}

function toPublic(b: Branch): string {
  return `SELECT ${b.select}, 0::int, 'public'::varchar, 'public'::varchar${b.tail} FROM ${b.from} WHERE ${b.where} AND a.grantee = 0`;
}

const both = (b: Branch): string => `${byRole(b)}\n  UNION ALL ${toPublic(b)}`;

const RELATION_KINDS = "c.relkind IN ('r', 'v', 'm', 'p', 'f')";

const RELATION_ACL = (): Branch => ({
  select: "n.nspname::varchar AS namespace_name, c.relname::varchar AS relation_name, a.privilege_type::varchar AS privilege_type",
  from: `pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid, ${SHIM}.acl_items(c.relacl, '{SELECT,INSERT,UPDATE,DELETE,REFERENCES,TRUNCATE}') a`,
  where: `${RELATION_KINDS} AND a.grantee <> c.relowner`,
  tail: ", a.is_grantable AS admin_option",
});

/** DROP and ALTER, which PostgreSQL lacks, are rows of extra_privileges (grants.ts). */
const RELATION_EXTRA = (): Branch => ({
  select: "n.nspname::varchar, c.relname::varchar, a.privilege::varchar",
  from: `${SHIM}.extra_privileges a JOIN pg_class c ON c.oid = a.relid JOIN pg_namespace n ON n.oid = c.relnamespace`,
  where: "TRUE",
  tail: ", false",
});

const COLUMN_ACL = (): Branch => ({
  select:
    "n.nspname::varchar AS namespace_name, c.relname::varchar AS relation_name, att.attname::varchar AS column_name, a.privilege_type::varchar AS privilege_type",
  from: `pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid JOIN pg_attribute att ON att.attrelid = c.oid, ${SHIM}.acl_items(att.attacl, '{SELECT,UPDATE}') a`,
  where: `att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped AND ${RELATION_KINDS}`,
  tail: "",
});

const SCHEMA_ACL = (): Branch => ({
  select: "n.nspname::varchar AS namespace_name, a.privilege_type::varchar AS privilege_type",
  from: `pg_namespace n, ${SHIM}.acl_items(n.nspacl, '{USAGE,CREATE}') a`,
  where: "a.grantee <> n.nspowner",
  tail: ", a.is_grantable AS admin_option",
});

/** The function and the three views, in the order they must be created (called once catalog.ts has loaded: SHIM). */
export function privilegeViewStatements(): string[] {
  return [
    aclItems(),
    `CREATE OR REPLACE VIEW ${SHIM}.svv_relation_privileges AS\n  ${both(RELATION_ACL())}\n  UNION ALL ${both(RELATION_EXTRA())}`,
    `CREATE OR REPLACE VIEW ${SHIM}.svv_column_privileges AS\n  ${both(COLUMN_ACL())}`,
    `CREATE OR REPLACE VIEW ${SHIM}.svv_schema_privileges AS\n  ${both(SCHEMA_ACL())}`,
  ];
}
