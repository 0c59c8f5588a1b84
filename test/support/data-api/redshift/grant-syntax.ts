/**
 * GRANT / REVOKE as Redshift writes them (aws-facts §6.1,
 * https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html, r_REVOKE.html):
 *   GRANT privs ON { [TABLE] t, ... | SCHEMA s, ... | ALL TABLES IN SCHEMA s, ... } TO grantees [WITH GRANT OPTION]
 *   REVOKE [GRANT OPTION FOR] privs ON ... FROM grantees [RESTRICT | CASCADE]
 * parsed into a value the rules in grants.ts check.
 */
import { readIdentities, type Identity } from "./identities.js";
import { isOp, isWord, nameOf, quoteName, type Token } from "./tokens.js";

export type ObjectKind = "table" | "schema" | "all-tables" | "other";

export interface Privilege {
  readonly name: string;
  /** Column names for a column-level privilege. */
  readonly columns: readonly string[] | null;
}

export interface GrantStatement {
  readonly revoke: boolean;
  readonly grantOptionFor: boolean;
  readonly privileges: readonly Privilege[];
  readonly kind: ObjectKind;
  /** Schema-qualified names as [schema | null, name]; schemas as [null, schema]. */
  readonly objects: readonly (readonly [string | null, string])[];
  readonly grantees: readonly Identity[];
  readonly withGrantOption: boolean;
  /** What follows the grantee list (CASCADE, RESTRICT), as written. */
  readonly tail: readonly Token[];
  /** For kind "other": the ON ... part, as written. */
  readonly otherObject: readonly Token[];
}

export function parseGrant(t: readonly Token[]): GrantStatement {
  const revoke = isWord(t[0], "revoke");
  let i = 1;
  const grantOptionFor = revoke && isWord(t[1], "grant") && isWord(t[2], "option") && isWord(t[3], "for");
  if (grantOptionFor) i = 4;
  const [privileges, afterPrivileges] = readPrivileges(t, i);
  if (!isWord(t[afterPrivileges], "on")) throw syntax(t[afterPrivileges]);
  const direction = t.findIndex((token, k) => k > afterPrivileges && isWord(token, revoke ? "from" : "to"));
  if (direction < 0) throw new Error(`syntax error: ${revoke ? "FROM" : "TO"} expected`);
  const [kind, objects] = readObjects(t.slice(afterPrivileges + 1, direction));
  const [grantees, afterGrantees] = readIdentities(t, direction + 1);
  const rest = t.slice(afterGrantees).filter((token) => !isOp(token, ";"));
  const withGrantOption = isWord(rest[0], "with") && isWord(rest[1], "grant") && isWord(rest[2], "option");
  return {
    revoke,
    grantOptionFor,
    privileges,
    kind,
    objects,
    grantees,
    withGrantOption,
    tail: withGrantOption ? rest.slice(3) : rest,
    otherObject: kind === "other" ? t.slice(afterPrivileges + 1, direction) : [],
  };
}

function readPrivileges(t: readonly Token[], i: number): [Privilege[], number] {
  const privileges: Privilege[] = [];
  for (;;) {
    if (t[i]?.kind !== "word") throw syntax(t[i]);
    const name = t[i]!.value.toUpperCase();
    i++;
    if (name === "ALL" && isWord(t[i], "privileges")) i++;
    let columns: string[] | null = null;
    if (isOp(t[i], "(")) [columns, i] = readNames(t, i + 1);
    privileges.push({ name, columns });
    if (!isOp(t[i], ",")) return [privileges, i];
    i++;
  }
}

/** Names up to the closing parenthesis at or after t[i]. */
function readNames(t: readonly Token[], i: number): [string[], number] {
  const names: string[] = [];
  while (!isOp(t[i], ")")) {
    const name = nameOf(t[i]);
    if (name === null) throw syntax(t[i]);
    names.push(name);
    i += isOp(t[i + 1], ",") ? 2 : 1;
  }
  return [names, i + 1];
}

function readObjects(t: readonly Token[]): [ObjectKind, [string | null, string][]] {
  if (isWord(t[0], "schema")) return ["schema", readQualified(t, 1).map(([, name]) => [null, name])];
  if (isWord(t[0], "all") && isWord(t[1], "tables") && isWord(t[2], "in") && isWord(t[3], "schema")) {
    return ["all-tables", readQualified(t, 4).map(([, name]) => [null, name])];
  }
  if (isWord(t[0], "table")) return ["table", readQualified(t, 1)];
  if (t[0]?.kind === "quoted" || (t[0]?.kind === "word" && (isOp(t[1], ".") || isOp(t[1], ",") || t.length === 1))) {
    return ["table", readQualified(t, 0)];
  }
  return ["other", []];
}

function readQualified(t: readonly Token[], i: number): [string | null, string][] {
  const names: [string | null, string][] = [];
  while (i < t.length) {
    const first = nameOf(t[i]);
    if (first === null) throw syntax(t[i]);
    if (isOp(t[i + 1], ".")) {
      const second = nameOf(t[i + 2]);
      if (second === null) throw syntax(t[i + 2]);
      names.push([first, second]);
      i += 3;
    } else {
      names.push([null, first]);
      i += 1;
    }
    if (i < t.length && !isOp(t[i], ",")) throw syntax(t[i]);
    i++;
  }
  return names;
}

/** The schemas a statement touches: a table's (public when unqualified), or the schemas named. */
export function schemasOf(grant: GrantStatement): string[] {
  return [...new Set(grant.objects.map(([schema, name]) => (grant.kind === "table" ? (schema ?? "public") : name)))];
}

export function objectSql([schema, name]: readonly [string | null, string]): string {
  return schema === null ? quoteName(name) : `${quoteName(schema)}.${quoteName(name)}`;
}

function syntax(token: Token | undefined): Error {
  return new Error(`syntax error at or near "${token?.text ?? "end of input"}"`);
}
