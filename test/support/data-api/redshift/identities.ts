/**
 * Users, groups and roles: three kinds of identity that Redshift keeps apart. A group is a
 * PostgreSQL NOLOGIN role named `g/<group>`, so a group and a role or user may share a name and
 * naming the wrong kind fails (r_CREATE_GROUP, r_CREATE_ROLE, r_CREATE_USER, r_ALTER_GROUP,
 * r_DROP_GROUP under https://docs.aws.amazon.com/redshift/latest/dg/). Group names beginning with
 * two underscores are reserved (r_CREATE_GROUP).
 */
import type { Session } from "../backends.js";
import { SHIM } from "./catalog.js";
import { isOp, isWord, nameOf, pgString, quoteName, type Token } from "./tokens.js";

export type IdentityKind = "user" | "group" | "role" | "public";

export interface Identity {
  readonly kind: IdentityKind;
  readonly name: string;
}

export const GROUP_PREFIX = "g/";

/** The PostgreSQL role behind an identity, quoted (PUBLIC stays a keyword). */
export function pgRole(identity: Identity): string {
  return identity.kind === "public" ? "PUBLIC" : quoteName(pgRoleName(identity));
}

/** The PostgreSQL role name behind a user, group or role. */
export function pgRoleName(identity: Identity): string {
  return identity.kind === "group" ? `${GROUP_PREFIX}${identity.name}` : identity.name;
}

/** The role's oid as SQL (0 for PUBLIC, as aclexplode has it). */
export function pgRoleOid(identity: Identity): string {
  return identity.kind === "public" ? "0::oid" : `(SELECT oid FROM pg_roles WHERE rolname = ${pgString(pgRoleName(identity))})`;
}

/** `GROUP g`, `ROLE r`, `PUBLIC` or a user name at t[i]; returns the identity and the next index. */
export function readIdentity(t: readonly Token[], i: number): [Identity, number] {
  if (isWord(t[i], "group") && nameOf(t[i + 1]) !== null) return [{ kind: "group", name: nameOf(t[i + 1])! }, i + 2];
  if (isWord(t[i], "role") && nameOf(t[i + 1]) !== null) return [{ kind: "role", name: nameOf(t[i + 1])! }, i + 2];
  if (isWord(t[i], "public")) return [{ kind: "public", name: "public" }, i + 1];
  const name = nameOf(t[i]);
  if (name === null) throw new Error(`syntax error at or near "${t[i]?.text ?? "end of input"}"`);
  return [{ kind: "user", name }, i + 1];
}

/** Comma-separated identities from t[i]; returns them and the index after the list. */
export function readIdentities(t: readonly Token[], i: number): [Identity[], number] {
  const identities: Identity[] = [];
  for (;;) {
    const [identity, next] = readIdentity(t, i);
    identities.push(identity);
    if (!isOp(t[next], ",")) return [identities, next];
    i = next + 1;
  }
}

/**
 * Fails as Redshift does when an identity is not of the kind named (`group "x" does not exist`).
 * `known`: PostgreSQL role name -> can log in, already read for these identities (rule-facts.ts).
 */
export async function checkIdentities(session: Session, identities: readonly Identity[], known?: ReadonlyMap<string, boolean>): Promise<void> {
  const named = identities.filter((i) => i.kind !== "public");
  if (named.length === 0) return;
  const login = known ?? (await readLogins(session, named));
  for (const identity of named) {
    const pgName = pgRoleName(identity);
    const canLogin = login.get(pgName);
    const ok = canLogin !== undefined && (identity.kind === "user" ? canLogin : !canLogin && !(identity.kind === "role" && pgName.startsWith(GROUP_PREFIX)));
    if (!ok) throw new Error(`${identity.kind} "${identity.name}" does not exist`);
  }
}

async function readLogins(session: Session, named: readonly Identity[]): Promise<Map<string, boolean>> {
  const roles = named.map((i) => pgString(pgRoleName(i)));
  const found = await session.query(`SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN (${[...new Set(roles)].join(", ")})`);
  return new Map((found.result?.rows ?? []).map((row) => [String(row[0]), row[1] === true || row[1] === "t"]));
}

/** CREATE/ALTER/DROP of users, groups and roles; null when the statement is none of those. */
export async function identityStatement(session: Session, t: readonly Token[]): Promise<string[] | null> {
  const [verb, kind] = [t[0]?.value, t[1]?.value];
  if (verb === "create" && kind === "group") return createGroup(t);
  if (verb === "create" && kind === "role") return [`CREATE ROLE ${quoteName(nameAt(t, 2))} NOLOGIN`];
  if (verb === "create" && kind === "user") return createUser(t);
  if (verb === "alter" && kind === "group") return alterGroup(t);
  if (verb === "alter" && kind === "user") return alterUser(t);
  if (verb === "drop" && (kind === "group" || kind === "role" || kind === "user")) return dropIdentities(session, t, kind);
  return null;
}

function nameAt(t: readonly Token[], i: number): string {
  const name = nameOf(t[i]);
  if (name === null) throw new Error(`syntax error at or near "${t[i]?.text ?? "end of input"}"`);
  return name;
}

function createGroup(t: readonly Token[]): string[] {
  const group = nameAt(t, 2);
  if (group.startsWith("__")) throw new Error(`group name "${group}" is reserved: names beginning with two underscores are reserved`);
  const sql = [`CREATE ROLE ${pgRole({ kind: "group", name: group })} NOLOGIN`];
  const i = 3 + (isWord(t[3], "with") ? 1 : 0);
  if (isWord(t[i], "user")) {
    for (const user of namesFrom(t, i + 1)) sql.push(`GRANT ${pgRole({ kind: "group", name: group })} TO ${quoteName(user)}`);
  }
  return sql;
}

/** CREATE USER name [WITH] [PASSWORD 'x' | DISABLE] [CREATEUSER] [IN GROUP g, ...] [SYSLOG ACCESS UNRESTRICTED] ... */
function createUser(t: readonly Token[]): string[] {
  const user = nameAt(t, 2);
  const words = t.map((token) => token.value);
  const superuser = words.includes("createuser");
  const sql = [`CREATE ROLE ${quoteName(user)} LOGIN${superuser ? " SUPERUSER" : ""}`];
  const inAt = t.findIndex((token, i) => isWord(token, "in") && isWord(t[i + 1], "group"));
  if (inAt >= 0) for (const group of namesFrom(t, inAt + 2)) sql.push(`GRANT ${pgRole({ kind: "group", name: group })} TO ${quoteName(user)}`);
  if (words.includes("syslog") && words.includes("unrestricted")) sql.push(systemAccess(user, true));
  return sql;
}

function alterUser(t: readonly Token[]): string[] {
  const user = nameAt(t, 2);
  const words = t.map((token) => token.value);
  if (words.includes("syslog")) return [systemAccess(user, words.includes("unrestricted"))];
  if (words.includes("createuser")) return [`ALTER ROLE ${quoteName(user)} SUPERUSER`];
  if (words.includes("nocreateuser")) return [`ALTER ROLE ${quoteName(user)} NOSUPERUSER`];
  throw new Error(`ALTER USER: only CREATEUSER, NOCREATEUSER and SYSLOG ACCESS are emulated`);
}

/** ACCESS SYSTEM TABLE / SYSLOG ACCESS UNRESTRICTED: sees every identity in the SVV views. */
export function systemAccess(identity: string, on: boolean): string {
  const role = `(SELECT oid FROM pg_roles WHERE rolname = ${pgString(identity)})`;
  return on
    ? `INSERT INTO ${SHIM}.system_access SELECT ${role} WHERE NOT EXISTS (SELECT 1 FROM ${SHIM}.system_access WHERE roleid = ${role})`
    : `DELETE FROM ${SHIM}.system_access WHERE roleid = ${role}`;
}

function alterGroup(t: readonly Token[]): string[] {
  const group = pgRole({ kind: "group", name: nameAt(t, 2) });
  if (isWord(t[3], "rename") && isWord(t[4], "to")) return [`ALTER ROLE ${group} RENAME TO ${pgRole({ kind: "group", name: nameAt(t, 5) })}`];
  const add = isWord(t[3], "add");
  if (!(add || isWord(t[3], "drop")) || !isWord(t[4], "user")) throw new Error(`syntax error at or near "${t[3]?.text ?? ""}"`);
  return namesFrom(t, 5).map((user) => (add ? `GRANT ${group} TO ${quoteName(user)}` : `REVOKE ${group} FROM ${quoteName(user)}`));
}

async function dropIdentities(session: Session, t: readonly Token[], kind: "group" | "role" | "user"): Promise<string[]> {
  const ifExists = isWord(t[2], "if") && isWord(t[3], "exists");
  const names = namesFrom(t, ifExists ? 4 : 2);
  const identities = names.map((name): Identity => ({ kind, name }));
  if (!ifExists) await checkIdentities(session, identities);
  return identities.map((identity) => `DROP ROLE ${ifExists ? "IF EXISTS " : ""}${pgRole(identity)}`);
}

function namesFrom(t: readonly Token[], i: number): string[] {
  const names = [nameAt(t, i)];
  while (isOp(t[i + 1], ",")) {
    i += 2;
    names.push(nameAt(t, i));
  }
  return names;
}
