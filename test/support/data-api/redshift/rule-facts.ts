/**
 * What the GRANT rules (grants.ts, column-conflicts.ts, identities.ts) need to know about the
 * identities and objects a submission names: read in one query when its first GRANT or REVOKE
 * runs, then kept current while its statements run. A GRANT or REVOKE on tables updates the held
 * privileges it changes; any other statement that may change identities, relations, schemas or
 * privileges (DDL, GRANT ROLE, ALL TABLES IN SCHEMA, ...) makes the facts stale, and every rule then
 * asks PostgreSQL per statement again, as it would without them. The rules stay where they are:
 * this is the fast path they consult (a batch of 40 GRANTs costs one query, not four per GRANT).
 */
import type { Session } from "../backends.js";
import type { StatementContext } from "../mode.js";
import { SHIM } from "./catalog.js";
import { objectSql, parseGrant, schemasOf, type GrantStatement, type Privilege } from "./grant-syntax.js";
import { pgRoleName } from "./identities.js";
import { isWord, pgString, solid, tokenize, type Token } from "./tokens.js";

const MEMO_KEY = "redshift.ruleFacts";
/** Only these are tracked: the privileges that can be held at the table or the column level. */
const TRACKED = new Set(["SELECT", "UPDATE"]);
/** Statements that change none of the facts (DML on user tables, plain reads). */
const INERT = new Set(["select", "insert", "update", "delete", "with", "values", "show", "explain"]);
const GRANT_START = /^\s*(?:(?:--[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*(?:grant|revoke)\b/i;

interface Held {
  table: boolean;
  readonly columns: Set<string>;
}

/** What one query told about the names of a submission's GRANTs and REVOKEs, and what they changed since. */
export class RuleFacts {
  stale = false;
  /** Why the read failed (the facts are then stale). */
  unreadable: unknown = null;
  /** PostgreSQL role name -> can it log in (user) or not (group or role). */
  readonly logins = new Map<string, boolean>();
  private readonly roleOids = new Map<string, string>([["", "0"]]);
  /** objectSql of a relation -> its oid. */
  private readonly relations = new Map<string, string>();
  private readonly namedSchemas = new Set<string>();
  private readonly externalSchemas = new Set<string>();
  private readonly lateBinding = new Set<string>();
  /** `<relation oid>/<grantee oid>/<privilege>` -> where it is held. */
  private readonly held = new Map<string, Held>();

  /** True when every name the statement uses was read and nothing since made the facts stale. */
  covers(grant: GrantStatement): boolean {
    if (this.stale) return false;
    if (!grant.grantees.every((g) => g.kind === "public" || this.logins.has(pgRoleName(g)))) return false;
    if (!schemasOf(grant).every((s) => this.namedSchemas.has(s))) return false;
    return grant.kind !== "table" || grant.objects.every((o) => this.relations.has(objectSql(o)));
  }

  /** The first of the statement's schemas that is external, or null. */
  externalSchemaOf(grant: GrantStatement): string | null {
    return schemasOf(grant).find((s) => this.externalSchemas.has(s)) ?? null;
  }

  /** The first of the statement's relations that is a late-binding view, or null. */
  lateBindingViewOf(grant: GrantStatement): string | null {
    return grant.objects.map(objectSql).find((name) => this.lateBinding.has(this.relations.get(name)!)) ?? null;
  }

  /** Is `privilege` held by one of the grantees on one of the relations, at that level? */
  isHeld(grant: GrantStatement, privilege: string, level: "table" | "column"): boolean {
    return this.pairs(grant, privilege).some((key) => {
      const held = this.held.get(key);
      return held !== undefined && (level === "table" ? held.table : held.columns.size > 0);
    });
  }

  /** What a checked GRANT or REVOKE leaves held (PostgreSQL's REVOKE at table level also drops the column grants). */
  record(grant: GrantStatement, kept: readonly Privilege[]): void {
    // CASCADE also takes from whoever the grantee granted to: identities this read may not know.
    if (grant.kind === "all-tables" || grant.tail.some((token) => isWord(token, "cascade"))) this.stale = true;
    if (grant.kind !== "table" || grant.grantOptionFor) return;
    for (const privilege of kept.filter((p) => TRACKED.has(p.name))) {
      for (const key of this.pairs(grant, privilege.name)) {
        const held = this.held.get(key) ?? { table: false, columns: new Set<string>() };
        this.held.set(key, held);
        if (privilege.columns === null) {
          held.table = !grant.revoke;
          if (grant.revoke) held.columns.clear();
        } else {
          for (const column of privilege.columns) {
            if (grant.revoke) held.columns.delete(column);
            else held.columns.add(column);
          }
        }
      }
    }
  }

  private pairs(grant: GrantStatement, privilege: string): string[] {
    const grantees = grant.grantees.map((g) => this.roleOids.get(g.kind === "public" ? "" : pgRoleName(g))!);
    return grant.objects.flatMap((o) => grantees.map((g) => `${this.relations.get(objectSql(o))!}/${g}/${privilege}`));
  }

  /** Takes one row of the facts query (factsSql). */
  add(kind: string, a: string, b: string | null, c: string | null): void {
    if (kind === "role") {
      this.logins.set(a, c === "true");
      this.roleOids.set(a, b!);
    } else if (kind === "relation") this.relations.set(a, b!);
    else if (kind === "schema") this.namedSchemas.add(a);
    else if (kind === "external") this.externalSchemas.add(a);
    else if (kind === "late") this.lateBinding.add(a);
    else {
      const key = `${a}/${b!}/${kind.slice(kind.indexOf(":") + 1)}`;
      const held = this.held.get(key) ?? { table: false, columns: new Set<string>() };
      this.held.set(key, held);
      if (kind.startsWith("table:")) held.table = true;
      else held.columns.add(c!);
    }
  }
}

/** The submission's facts, read on first use; null when they do not cover this statement (the rules then query). */
export async function ruleFacts(session: Session, context: StatementContext, grant: GrantStatement): Promise<RuleFacts | null> {
  let facts = context.submission.memo.get(MEMO_KEY) as RuleFacts | undefined;
  if (facts === undefined) {
    facts = await readRuleFacts(session, context);
    context.submission.memo.set(MEMO_KEY, facts);
  }
  if (facts.covers(grant)) return facts;
  facts.stale = true;
  return null;
}

/** After a statement that is no GRANT or REVOKE on tables or schemas: stale unless it cannot change a fact. */
export function noteStatement(context: StatementContext, t: readonly Token[]): void {
  const facts = context.submission.memo.get(MEMO_KEY) as RuleFacts | undefined;
  if (facts === undefined || t.length === 0) return;
  if (!INERT.has(t[0]!.value) || t.some((token) => token.value === SHIM)) facts.stale = true;
}

/**
 * In a batch the read runs under a savepoint: a name another statement of the batch would fail on
 * (a schema the user may not use) must fail that statement, not this read; the facts are then stale.
 */
async function readRuleFacts(session: Session, context: StatementContext): Promise<RuleFacts> {
  const facts = new RuleFacts();
  const names = { roles: new Set<string>(), relations: new Set<string>(), schemas: new Set<string>() };
  for (const grant of grantsOf(context.submission.sqls)) {
    for (const g of grant.grantees) if (g.kind !== "public") names.roles.add(pgRoleName(g));
    if (grant.kind === "table") for (const o of grant.objects) names.relations.add(objectSql(o));
    for (const s of schemasOf(grant)) names.schemas.add(s);
  }
  const read = async (): Promise<void> => {
    const found = await session.query(factsSql(names.roles, names.relations, names.schemas));
    for (const row of found.result?.rows ?? []) facts.add(String(row[0]), String(row[1]), nullable(row[2]), nullable(row[3]));
  };
  if (!context.inTransaction) {
    await read();
    return facts;
  }
  await session.query("SAVEPOINT redshift_rule_facts");
  try {
    await read();
    await session.query("RELEASE SAVEPOINT redshift_rule_facts");
  } catch (error) {
    // Kept, not lost: the statement naming the object meets this error itself when it runs.
    await session.query("ROLLBACK TO SAVEPOINT redshift_rule_facts");
    facts.stale = true;
    facts.unreadable = error;
  }
  return facts;
}

function nullable(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** The GRANTs and REVOKEs on tables, schemas or all tables in a schema, among a submission's statements. */
function grantsOf(sqls: readonly string[]): GrantStatement[] {
  const grants: GrantStatement[] = [];
  for (const sql of sqls) {
    if (!GRANT_START.test(sql)) continue;
    const t = solid(tokenize(sql));
    if (isWord(t[1], "role") || isWord(t[1], "access")) continue;
    try {
      const grant = parseGrant(t);
      if (grant.kind !== "other") grants.push(grant);
    } catch {
      // A statement that does not parse fails when it runs, with its own error; it names nothing here.
    }
  }
  return grants;
}

/** One query: the roles, relations and schemas named, which schemas are external, which relations late-binding, and the SELECT/UPDATE they hold. */
function factsSql(roles: ReadonlySet<string>, relations: ReadonlySet<string>, schemas: ReadonlySet<string>): string {
  const list = (values: ReadonlySet<string>): string => (values.size === 0 ? "NULL" : [...values].map(pgString).join(", "));
  const values = relations.size === 0 ? "SELECT NULL::text WHERE false" : `VALUES ${[...relations].map((r) => `(${pgString(r)})`).join(", ")}`;
  const acl = "a.grantee IN (SELECT oid FROM who UNION ALL SELECT 0::oid) AND a.privilege_type IN ('SELECT', 'UPDATE')";
  return `WITH rel (name, oid) AS (SELECT v.name, to_regclass(v.name)::oid FROM (${values}) v (name)),
    who AS (SELECT rolname, rolcanlogin, oid FROM pg_roles WHERE rolname IN (${list(roles)}))
  SELECT 'role', rolname::text, oid::text, rolcanlogin::text FROM who
  UNION ALL SELECT 'relation', name, oid::text, NULL FROM rel WHERE oid IS NOT NULL
  UNION ALL SELECT 'schema', s, NULL, NULL FROM (VALUES ${schemas.size === 0 ? "(NULL::text)" : [...schemas].map((s) => `(${pgString(s)})`).join(", ")}) v (s) WHERE s IS NOT NULL
  UNION ALL SELECT 'external', n.nspname::text, NULL, NULL FROM ${SHIM}.external_schemas e JOIN pg_namespace n ON n.oid = e.nspoid WHERE n.nspname IN (${list(schemas)})
  UNION ALL SELECT 'late', relid::text, NULL, NULL FROM ${SHIM}.late_binding_views WHERE relid IN (SELECT oid FROM rel)
  UNION ALL SELECT 'table:' || a.privilege_type, c.oid::text, a.grantee::text, NULL FROM pg_class c, aclexplode(c.relacl) a
    WHERE c.oid IN (SELECT oid FROM rel) AND ${acl}
  UNION ALL SELECT 'column:' || a.privilege_type, att.attrelid::text, a.grantee::text, att.attname::text FROM pg_attribute att, aclexplode(att.attacl) a
    WHERE att.attrelid IN (SELECT oid FROM rel) AND att.attacl IS NOT NULL AND att.attnum > 0 AND ${acl}`;
}
