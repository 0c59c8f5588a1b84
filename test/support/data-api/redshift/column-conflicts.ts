/**
 * "You can't hold the same privilege at both the table level and the column level"
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT-usage-notes.html, aws-facts §6.2):
 * table-level held + column GRANT: no effect; table-level held + column REVOKE: error;
 * column-level held + table-level GRANT: error; column-level held + table-level REVOKE: revokes
 * both (PostgreSQL does that by itself). PostgreSQL allows all four, so they are checked here.
 */
import type { Session } from "../backends.js";
import { objectSql, type GrantStatement, type Privilege } from "./grant-syntax.js";
import { pgRoleOid } from "./identities.js";
import type { RuleFacts } from "./rule-facts.js";
import { pgString } from "./tokens.js";

/** The privileges that still take effect; throws where Redshift fails the statement. */
export async function checkColumnConflicts(session: Session, grant: GrantStatement, privileges: readonly Privilege[], facts: RuleFacts | null = null): Promise<Privilege[]> {
  if (grant.kind !== "table") return [...privileges];
  const kept: Privilege[] = [];
  for (const privilege of privileges) {
    if (privilege.name !== "SELECT" && privilege.name !== "UPDATE") {
      kept.push(privilege);
      continue;
    }
    const columnLevel = privilege.columns !== null;
    const level = columnLevel ? "table" : "column";
    const held = facts !== null ? facts.isHeld(grant, privilege.name, level) : await heldAtLevel(session, grant, privilege.name, level);
    if (held && !columnLevel && !grant.revoke) {
      throw new Error(`${privilege.name} is already held at the column level: revoke it there first (a privilege can't be held at both levels)`);
    }
    if (held && columnLevel && grant.revoke) {
      throw new Error(`${privilege.name} is held at the table level: a column-level REVOKE can't take part of it away`);
    }
    if (!(held && columnLevel && !grant.revoke)) kept.push(privilege);
  }
  return kept;
}

async function heldAtLevel(session: Session, grant: GrantStatement, privilege: string, level: "table" | "column"): Promise<boolean> {
  const relations = grant.objects.map((o) => `${pgString(objectSql(o))}::regclass`).join(", ");
  const grantees = grant.grantees.map(pgRoleOid).join(", ");
  const sql =
    level === "table"
      ? `SELECT 1 FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid IN (${relations}) AND a.grantee IN (${grantees}) AND a.privilege_type = ${pgString(privilege)} LIMIT 1`
      : `SELECT 1 FROM pg_attribute att, aclexplode(att.attacl) a WHERE att.attrelid IN (${relations}) AND att.attacl IS NOT NULL AND att.attnum > 0
          AND a.grantee IN (${grantees}) AND a.privilege_type = ${pgString(privilege)} LIMIT 1`;
  const found = await session.query(sql);
  return (found.result?.rows.length ?? 0) > 0;
}
