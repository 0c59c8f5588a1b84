/**
 * GRANT / REVOKE rules of Redshift, checked before PostgreSQL runs what it can of them
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html and r_GRANT-usage-notes.html):
 * - table privileges SELECT, INSERT, UPDATE, DELETE, DROP, REFERENCES, ALTER (ALL = the first six);
 *   DROP and ALTER, which PostgreSQL lacks, are recorded in pg_redshift.extra_privileges;
 * - column-level privileges: SELECT and UPDATE only, no WITH GRANT OPTION, none on late-binding views;
 * - WITH GRANT OPTION only to a user ("can't be granted to a group or to PUBLIC");
 * - "You can't run GRANT (on an external resource) within a transaction block";
 * - a grantee is a user, `GROUP g` or `ROLE r`, each of its own kind (identities.ts).
 */
import type { Session } from "../backends.js";
import type { StatementContext } from "../mode.js";
import { SHIM } from "./catalog.js";
import { checkColumnConflicts } from "./column-conflicts.js";
import { parseGrant, objectSql, schemasOf, type GrantStatement, type Privilege } from "./grant-syntax.js";
import { checkIdentities, pgRole, pgRoleOid, readIdentities, systemAccess } from "./identities.js";
import { noteStatement, ruleFacts, type RuleFacts } from "./rule-facts.js";
import { isWord, pgString, render, renderToken, type Token } from "./tokens.js";

const TABLE_PRIVILEGES = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "DROP", "REFERENCES", "ALTER"]);
const TABLE_ALL = ["SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES", "DROP"];
const EXTRA = new Set(["DROP", "ALTER"]);
const SCHEMA_PRIVILEGES = new Set(["CREATE", "USAGE"]);
const COLUMN_PRIVILEGES = new Set(["SELECT", "UPDATE"]);

/** PostgreSQL statements for a GRANT or REVOKE (t without whitespace). */
export async function grantStatements(session: Session, t: readonly Token[], context: StatementContext): Promise<string[]> {
  const grant = isWord(t[1], "role", "access") ? null : parseGrant(t);
  if (grant === null || grant.kind === "other") noteStatement(context, t);
  if (isWord(t[1], "role")) return roleMembership(session, t);
  if (isWord(t[1], "access") && isWord(t[2], "system") && isWord(t[3], "table")) return accessSystemTable(t);
  // t has no whitespace tokens: joined with spaces again (GRANT CREATE ON DATABASE d TO u, ON FUNCTION ...).
  if (grant === null || grant.kind === "other") return [t.map(renderToken).join(" ")];
  checkShape(grant);
  // One query per submission for all of this (rule-facts.ts); null: ask PostgreSQL as each rule did.
  const facts = await ruleFacts(session, context, grant);
  await checkIdentities(session, grant.grantees, facts?.logins);
  await checkExternal(session, grant, context, facts);
  const privileges = expandAll(grant);
  if (privileges.some((p) => p.columns !== null)) await checkColumnTargets(session, grant, facts);
  const kept = await checkColumnConflicts(session, grant, privileges, facts);
  facts?.record(grant, kept);
  const native = kept.filter((p) => !EXTRA.has(p.name));
  const extra = kept.filter((p) => EXTRA.has(p.name)).map((p) => p.name);
  const sql: string[] = [];
  if (native.length > 0) sql.push(nativeSql(grant, native));
  if (extra.length > 0) sql.push(extraSql(grant, extra));
  return sql;
}

function checkShape(grant: GrantStatement): void {
  for (const privilege of grant.privileges) {
    const allowed = grant.kind === "schema" ? SCHEMA_PRIVILEGES : privilege.columns === null ? TABLE_PRIVILEGES : COLUMN_PRIVILEGES;
    if (privilege.name !== "ALL" && !allowed.has(privilege.name)) {
      const what = grant.kind === "schema" ? "schema" : privilege.columns === null ? "table" : "column";
      throw new Error(`Invalid privilege type ${privilege.name} for ${what}${what === "column" ? ": only SELECT and UPDATE can be granted on columns" : ""}`);
    }
    if (privilege.columns !== null && grant.kind !== "table") throw new Error("column privileges need ON [TABLE] table_name");
  }
  const columns = grant.privileges.some((p) => p.columns !== null);
  if (grant.withGrantOption && columns) throw new Error("WITH GRANT OPTION is not supported for column-level privileges");
  if (grant.withGrantOption && grant.grantees.some((g) => g.kind !== "user")) {
    throw new Error("WITH GRANT OPTION can't be granted to a group, a role or PUBLIC");
  }
}

function expandAll(grant: GrantStatement): Privilege[] {
  return grant.privileges.flatMap((p): Privilege[] => {
    if (p.name !== "ALL") return [p];
    if (p.columns !== null) return [...COLUMN_PRIVILEGES].map((name) => ({ name, columns: p.columns }));
    return (grant.kind === "schema" ? [...SCHEMA_PRIVILEGES] : TABLE_ALL).map((name) => ({ name, columns: null }));
  });
}

async function checkExternal(session: Session, grant: GrantStatement, context: StatementContext, facts: RuleFacts | null): Promise<void> {
  if (!context.inTransaction) return;
  const schema = facts !== null ? (facts.externalSchemaOf(grant) ?? undefined) : await externalSchemaOf(session, grant);
  if (schema !== undefined) {
    throw new Error(`${grant.revoke ? "REVOKE" : "GRANT"} on external schema "${String(schema)}" or its tables cannot run inside a transaction block`);
  }
}

async function externalSchemaOf(session: Session, grant: GrantStatement): Promise<unknown> {
  const schemas = schemasOf(grant).map(pgString).join(", ");
  const found = await session.query(
    `SELECT n.nspname FROM ${SHIM}.external_schemas e JOIN pg_namespace n ON n.oid = e.nspoid WHERE n.nspname IN (${schemas}) LIMIT 1`,
  );
  return found.result?.rows[0]?.[0];
}

/** aws-facts §6.2: no column grants on late-binding views. */
async function checkColumnTargets(session: Session, grant: GrantStatement, facts: RuleFacts | null): Promise<void> {
  const view = facts !== null ? (facts.lateBindingViewOf(grant) ?? undefined) : await lateBindingViewOf(session, grant);
  if (view !== undefined) throw new Error(`column-level privileges can't be granted on late-binding view ${String(view)}`);
}

async function lateBindingViewOf(session: Session, grant: GrantStatement): Promise<unknown> {
  const relations = grant.objects.map((o) => `${pgString(objectSql(o))}::regclass`).join(", ");
  const found = await session.query(`SELECT relid::regclass::text FROM ${SHIM}.late_binding_views WHERE relid IN (${relations}) LIMIT 1`);
  return found.result?.rows[0]?.[0];
}

function objectsSql(grant: GrantStatement): string {
  const names = grant.objects.map(objectSql).join(", ");
  if (grant.kind === "schema") return `SCHEMA ${names}`;
  if (grant.kind === "all-tables") return `ALL TABLES IN SCHEMA ${names}`;
  return `TABLE ${names}`;
}

function nativeSql(grant: GrantStatement, privileges: readonly Privilege[]): string {
  const list = privileges.map((p) => (p.columns === null ? p.name : `${p.name} (${p.columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(", ")})`));
  const grantees = grant.grantees.map(pgRole).join(", ");
  const tail = render(grant.tail.flatMap((token) => [{ kind: "space", text: " ", value: " " } as Token, token]));
  if (grant.revoke) return `REVOKE ${grant.grantOptionFor ? "GRANT OPTION FOR " : ""}${list.join(", ")} ON ${objectsSql(grant)} FROM ${grantees}${tail}`;
  return `GRANT ${list.join(", ")} ON ${objectsSql(grant)} TO ${grantees}${grant.withGrantOption ? " WITH GRANT OPTION" : ""}`;
}

/** DROP / ALTER rows: only the owner (or a superuser) may grant them here. */
function extraSql(grant: GrantStatement, privileges: readonly string[]): string {
  const relations =
    grant.kind === "all-tables"
      ? `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname IN (${grant.objects.map(([, s]) => pgString(s)).join(", ")})`
      : grant.objects.map((o) => `SELECT ${pgString(objectSql(o))}::regclass::oid`).join(" UNION ALL ");
  const grantees = grant.grantees.map((g) => `SELECT ${pgRoleOid(g)}`).join(" UNION ALL ");
  const allowed = `(pg_has_role(current_user, c.relowner, 'USAGE') OR ${SHIM}.fail('permission denied for relation ' || c.relname))`;
  const privilegeList = privileges.map((p) => `(${pgString(p)})`).join(", ");
  if (grant.revoke) {
    return `DELETE FROM ${SHIM}.extra_privileges e USING pg_class c WHERE c.oid = e.relid AND e.relid IN (${relations})
      AND e.privilege IN (${privileges.map(pgString).join(", ")}) AND e.grantee IN (${grantees}) AND ${allowed}`;
  }
  return `INSERT INTO ${SHIM}.extra_privileges (relid, privilege, grantee)
    SELECT c.oid, p.privilege, g.oid FROM pg_class c, (VALUES ${privilegeList}) AS p (privilege), (${grantees}) AS g (oid)
    WHERE c.oid IN (${relations}) AND ${allowed} ON CONFLICT DO NOTHING`;
}

/** GRANT ROLE r TO { user | ROLE r2 }: roles nest, groups take no roles (r_GRANT "Granting roles"). */
async function roleMembership(session: Session, t: readonly Token[]): Promise<string[]> {
  const revoke = isWord(t[0], "revoke");
  const direction = t.findIndex((token) => isWord(token, revoke ? "from" : "to"));
  const [roles] = readIdentities(t, 1);
  const [members] = readIdentities(t, direction + 1);
  if (members.some((m) => m.kind === "group" || m.kind === "public")) throw new Error("a role can be granted only to a user or a role");
  await checkIdentities(session, [...roles, ...members]);
  const list = (ids: typeof roles): string => ids.map(pgRole).join(", ");
  return [revoke ? `REVOKE ${list(roles)} FROM ${list(members)}` : `GRANT ${list(roles)} TO ${list(members)}`];
}

/** GRANT ACCESS SYSTEM TABLE TO { user | ROLE r }: the SVV views then show every identity. */
function accessSystemTable(t: readonly Token[]): string[] {
  const revoke = isWord(t[0], "revoke");
  const [identities] = readIdentities(t, 5);
  return identities.map((identity) => systemAccess(identity.name, !revoke));
}
