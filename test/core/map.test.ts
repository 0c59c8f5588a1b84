import { describe, expect, it } from "vitest";
import type { DatabaseEntry, PolicyEntry } from "../../src/catalog/model.js";
import type { DesiredGrant, Dialect } from "../../src/core/grants.js";
import { globMatcher, mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { catalog, database, defaultMapping, policy, role, table } from "../support/catalog-builders.js";

/** `group analyst SELECT sales.orders(amount,id)`, sorted. */
function grantLines(grants: readonly DesiredGrant[]): string[] {
  return grants
    .map((g) => {
      const o = g.object;
      const path = `${o.schema}${o.table === null ? "" : `.${o.table}`}${o.columns === null ? "" : `(${o.columns.join(",")})`}`;
      return `${g.grantee.kind} ${g.grantee.name} ${g.privilege} ${path}`;
    })
    .sort();
}

const analyst = role("analyst");
const sales = database("sales", { access: "public" }, [table("orders", {}, ["id", "amount", ["email", { pii: "true" }]])]);
const publicSelect = policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"]);

interface Row {
  readonly situation: string;
  readonly databases?: readonly DatabaseEntry[];
  readonly policies?: readonly PolicyEntry[];
  readonly mapping?: Record<string, unknown>;
  readonly dialect?: Dialect;
  readonly grants: readonly string[];
  readonly diagnostic?: RegExp;
}

const long = (n: number) => "t".repeat(n);

const rows: readonly Row[] = [
  // Principals (DESIGN §3)
  {
    situation: "IAM role analyst, default rule -> group analyst (+ schema USAGE)",
    grants: ["group analyst SELECT sales.orders", "group analyst USAGE sales"],
  },
  {
    situation: "IAM role with a path (team/Analyst) -> unmapped by default: warning naming the path, nothing granted",
    policies: [policy("arn:aws:iam::123456789012:role/team/Analyst", "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: [],
    diagnostic: /warning: principal arn:aws:iam::123456789012:role\/team\/Analyst has no grantee mapping \(a role with an IAM path/,
  },
  {
    situation: "a role of another account (external-partner/Analyst) never becomes the local group analyst",
    policies: [policy("arn:aws:iam::999999999999:role/external-partner/Analyst", "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: [],
    diagnostic: /principal arn:aws:iam::999999999999:role\/external-partner\/Analyst belongs to account 999999999999, not to 123456789012: not mapped/,
  },
  {
    situation: "a role of another account without a path -> not mapped either",
    policies: [policy("arn:aws:iam::999999999999:role/analyst", "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: [],
    diagnostic: /belongs to account 999999999999, not to 123456789012/,
  },
  {
    situation: "mapping.accounts lists the other account -> its role is mapped by the rules",
    policies: [policy("arn:aws:iam::999999999999:role/partner", "TABLE", { access: ["public"] }, ["SELECT"])],
    mapping: { accounts: ["123456789012", "999999999999"] },
    grants: ["group partner SELECT sales.orders", "group partner USAGE sales"],
  },
  {
    situation: "an explicit mapping of another account's principal is honoured",
    policies: [policy("arn:aws:iam::999999999999:role/partner", "TABLE", { access: ["public"] }, ["SELECT"])],
    mapping: { principals: { "arn:aws:iam::999999999999:role/partner": "partner_readers" } },
    grants: ["group partner_readers SELECT sales.orders", "group partner_readers USAGE sales"],
  },
  {
    situation: "explicit map wins over the rules",
    mapping: { principals: { [analyst]: "bi_team" } },
    grants: ["group bi_team SELECT sales.orders", "group bi_team USAGE sales"],
  },
  {
    situation: "explicit map to a role, folded as Redshift folds identifiers (BI -> bi)",
    mapping: { principals: { [analyst]: { name: "BI", kind: "role" } } },
    grants: ["role bi SELECT sales.orders", "role bi USAGE sales"],
  },
  {
    situation: "explicit map in postgres keeps the case (quoted names are not folded there)",
    dialect: "postgres",
    mapping: { principals: { [analyst]: { name: "BI", kind: "role" } } },
    grants: ["role BI SELECT sales.orders", "role BI USAGE sales"],
  },
  {
    situation: "folding is ASCII only: ÄNALYSTS -> Änalysts in redshift",
    mapping: { principals: { [analyst]: "ÄNALYSTS" } },
    grants: ["group Änalysts SELECT sales.orders", "group Änalysts USAGE sales"],
  },
  {
    situation: "the byte limit applies to the folded name: 127 x 'A' -> fine in redshift",
    mapping: { principals: { [analyst]: "A".repeat(127) } },
    grants: [`group ${"a".repeat(127)} SELECT sales.orders`, `group ${"a".repeat(127)} USAGE sales`],
  },
  {
    situation: "rule with $1, lower-cased by default",
    policies: [policy("arn:aws:iam::123456789012:user/Alice", "TABLE", { access: ["public"] }, ["SELECT"])],
    mapping: { principalRules: [{ match: "^arn:aws:iam::\\d{12}:user/(.+)$", grantee: "u_$1", kind: "role" }] },
    grants: ["role u_alice SELECT sales.orders", "role u_alice USAGE sales"],
  },
  {
    situation: "rule with lowercase: false -> still folded in redshift (it stores u_alice)",
    policies: [policy("arn:aws:iam::123456789012:user/Alice", "TABLE", { access: ["public"] }, ["SELECT"])],
    mapping: { principalRules: [{ match: "^arn:aws:iam::\\d{12}:user/(.+)$", grantee: "u_$1", lowercase: false }] },
    grants: ["group u_alice SELECT sales.orders", "group u_alice USAGE sales"],
  },
  {
    situation: "rule with lowercase: false keeps the case in postgres",
    dialect: "postgres",
    policies: [policy("arn:aws:iam::123456789012:user/Alice", "TABLE", { access: ["public"] }, ["SELECT"])],
    mapping: { principalRules: [{ match: "^arn:aws:iam::\\d{12}:user/(.+)$", grantee: "u_$1", lowercase: false }] },
    grants: ["group u_Alice SELECT sales.orders", "group u_Alice USAGE sales"],
  },
  {
    situation: "IAM user with only the default rule -> unmapped: warning, nothing granted",
    policies: [policy("arn:aws:iam::123456789012:user/alice", "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: [],
    diagnostic: /principal arn:aws:iam::123456789012:user\/alice has no grantee mapping/,
  },
  {
    situation: "IAM_ALLOWED_PRINCIPALS -> unmapped: warning, nothing granted",
    policies: [policy("IAM_ALLOWED_PRINCIPALS", "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: [],
    diagnostic: /IAM_ALLOWED_PRINCIPALS has no grantee mapping/,
  },
  {
    situation: "a grantee name longer than 63 bytes (postgres) -> error, skipped, never truncated",
    dialect: "postgres",
    mapping: { principals: { [analyst]: "g".repeat(64) } },
    grants: [],
    diagnostic: /longer than 63 bytes/,
  },
  {
    situation: "a grantee name of 127 bytes (redshift) -> fine",
    mapping: { principals: { [analyst]: "g".repeat(127) } },
    grants: [`group ${"g".repeat(127)} SELECT sales.orders`, `group ${"g".repeat(127)} USAGE sales`],
  },
  {
    situation: "a grantee name of 128 bytes (redshift) -> error, skipped",
    mapping: { principals: { [analyst]: "g".repeat(128) } },
    grants: [],
    diagnostic: /longer than 127 bytes/,
  },
  {
    situation: "a rule whose optional group did not take part -> empty grantee name: error, skipped",
    mapping: { principalRules: [{ match: "^arn:aws:iam::\\d{12}:role/(x)?.*$", grantee: "$1" }] },
    grants: [],
    diagnostic: /grantee name "" is empty/,
  },
  // Names (DESIGN §3)
  {
    situation: "include sales*, exclude sales_tmp -> only sales and sales_eu",
    databases: ["sales", "sales_eu", "sales_tmp", "hr"].map((d) => database(d, { access: "public" }, [table("t", {}, ["id"])])),
    mapping: { databases: { include: ["sales*"], exclude: ["sales_tmp"] } },
    grants: ["group analyst SELECT sales.t", "group analyst SELECT sales_eu.t", "group analyst USAGE sales", "group analyst USAGE sales_eu"],
  },
  {
    situation: "rename sales -> sales_rs",
    mapping: { databases: { rename: { sales: "sales_rs" } } },
    grants: ["group analyst SELECT sales_rs.orders", "group analyst USAGE sales_rs"],
  },
  {
    situation: "a Glue database named constructor (an Object member) -> schema constructor",
    databases: [database("constructor", { access: "public" }, [table("t", {}, ["id"])])],
    grants: ["group analyst SELECT constructor.t", "group analyst USAGE constructor"],
  },
  {
    situation: "table name of 63 bytes (postgres) -> fine",
    databases: [database("sales", { access: "public" }, [table(long(63), {}, ["id"])])],
    dialect: "postgres",
    grants: [`group analyst SELECT sales.${long(63)}`, "group analyst USAGE sales"],
  },
  {
    situation: "table name of 64 bytes (postgres) -> error, skipped, never truncated",
    databases: [database("sales", { access: "public" }, [table(long(64), {}, ["id"])])],
    dialect: "postgres",
    grants: [],
    diagnostic: /table sales\.t+: .*longer than 63 bytes/,
  },
  {
    situation: "table name of 32 x 'é' = 64 bytes (postgres) -> error: bytes, not characters",
    databases: [database("sales", { access: "public" }, [table("é".repeat(32), {}, ["id"])])],
    dialect: "postgres",
    grants: [],
    diagnostic: /longer than 63 bytes/,
  },
  {
    situation: "table name of 127 bytes (redshift) -> fine; 128 -> error",
    databases: [database("sales", { access: "public" }, [table(long(127), {}, ["id"]), table(long(128), {}, ["id"])])],
    grants: [`group analyst SELECT sales.${long(127)}`, "group analyst USAGE sales"],
    diagnostic: /longer than 127 bytes/,
  },
  {
    situation: "column name of 64 bytes in a subset (postgres) -> that column left out, error",
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id", "c".repeat(64), ["email", { access: "restricted" }]])])],
    dialect: "postgres",
    grants: ["group analyst SELECT sales.orders(id)", "group analyst USAGE sales"],
    diagnostic: /column sales\.orders\.c+: .*longer than 63 bytes/,
  },
  {
    situation: "schema of 128 bytes (redshift) -> error, nothing in it",
    databases: [database("s".repeat(128), { access: "public" }, [table("orders", {}, ["id"])])],
    grants: [],
    diagnostic: /database s+: .*longer than 127 bytes/,
  },
  {
    situation: "Mixed-case Glue names -> lower-cased in redshift",
    databases: [database("Sales", { access: "public" }, [table("Orders", {}, ["ID", ["Email", { access: "restricted" }]])])],
    grants: ["group analyst SELECT sales.orders(id)", "group analyst USAGE sales"],
  },
  {
    situation: "Mixed-case Glue names -> kept in postgres",
    databases: [database("Sales", { access: "public" }, [table("Orders", {}, ["ID", ["Email", { access: "restricted" }]])])],
    dialect: "postgres",
    grants: ["group analyst SELECT Sales.Orders(ID)", "group analyst USAGE Sales"],
  },
  // Names that fold together (aws-facts §6.5: Redshift folds quoted ASCII letters): one Redshift object, two catalog objects with their own tags
  {
    situation: "Glue tables Orders and orders fold to one Redshift table (redshift) -> ambiguous: error, neither granted (orders' email must not leak through Orders' table-level SELECT)",
    databases: [database("sales", { access: "public" }, [table("Orders", {}, ["id", "email"]), table("orders", {}, ["id", ["email", { access: "restricted" }]]), table("lines", {}, ["id"])])],
    grants: ["group analyst SELECT sales.lines", "group analyst USAGE sales"],
    diagnostic: /error: tables sales\.Orders, sales\.orders all map to sales\.orders/,
  },
  {
    situation: "Glue tables Orders and orders stay two tables in postgres",
    databases: [database("sales", { access: "public" }, [table("Orders", {}, ["id", "email"]), table("orders", {}, ["id", ["email", { access: "restricted" }]])])],
    dialect: "postgres",
    grants: ["group analyst SELECT sales.Orders", "group analyst SELECT sales.orders(id)", "group analyst USAGE sales"],
  },
  {
    situation: "renames put two databases' table t in one schema -> ambiguous: error, neither granted",
    databases: [database("eu", { access: "public" }, [table("t", {}, ["id", "email"])]), database("us", { access: "public" }, [table("t", {}, ["id", ["email", { access: "restricted" }]]), table("u", {}, ["id"])])],
    mapping: { databases: { rename: { eu: "sales", us: "sales" } } },
    dialect: "postgres",
    grants: ["group analyst SELECT sales.u", "group analyst USAGE sales"],
    diagnostic: /error: tables eu\.t, us\.t all map to sales\.t/,
  },
  {
    situation: "Glue columns Email and email fold to one Redshift column (redshift), one of them restricted -> that column left out of the subset, error",
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id", "Email", ["email", { access: "restricted" }]])])],
    grants: ["group analyst SELECT sales.orders(id)", "group analyst USAGE sales"],
    diagnostic: /error: columns sales\.orders\.Email, sales\.orders\.email share their names in the warehouse \(email\)/,
  },
  {
    situation: "a Glue column named xmin (a system column name, r_names) in a subset (redshift) -> left out, error; the table-level grant is unaffected",
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id", "xmin", ["email", { access: "restricted" }]]), table("lines", {}, ["id", "ctid"])])],
    grants: ["group analyst SELECT sales.orders(id)", "group analyst SELECT sales.lines", "group analyst USAGE sales"],
    diagnostic: /error: column sales\.orders\.xmin: xmin is the name of a system column/,
  },
  {
    situation: "a Glue column named oid: a system column in redshift, a plain column in postgres 12+",
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id", "oid", ["email", { access: "restricted" }]])])],
    dialect: "postgres",
    grants: ["group analyst SELECT sales.orders(id,oid)", "group analyst USAGE sales"],
  },
  {
    situation: "a name ending with a space (redshift) -> error, skipped: Redshift compares 'orders ' equal to 'orders' (r_Character_types), so the state and the SVV views would confuse them",
    databases: [database("sales", { access: "public" }, [table("orders ", {}, ["id"]), table("lines", {}, ["id"])])],
    grants: ["group analyst SELECT sales.lines", "group analyst USAGE sales"],
    diagnostic: /error: table sales\.orders : name "orders " ends with a space/,
  },
  {
    situation: "a name ending with a space is kept in postgres, which compares it exactly",
    databases: [database("sales", { access: "public" }, [table("orders ", {}, ["id"])])],
    dialect: "postgres",
    grants: ["group analyst SELECT sales.orders ", "group analyst USAGE sales"],
  },
  // Privileges (DESIGN §3)
  {
    situation: "ALL on a full table (redshift) -> SELECT, INSERT, DELETE, DROP + USAGE",
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["ALL"])],
    grants: ["SELECT", "INSERT", "DELETE", "DROP"].map((p) => `group analyst ${p} sales.orders`).concat("group analyst USAGE sales"),
  },
  {
    situation: "ALL on a full table (postgres) -> no DROP",
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["ALL"])],
    dialect: "postgres",
    grants: ["SELECT", "INSERT", "DELETE"].map((p) => `group analyst ${p} sales.orders`).concat("group analyst USAGE sales"),
  },
  {
    situation: "ALTER and DESCRIBE on a table -> nothing, not even USAGE",
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["ALTER", "DESCRIBE"])],
    grants: [],
  },
  {
    situation: "config maps ALTER -> TRUNCATE",
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["ALTER"])],
    mapping: { privileges: { ALTER: ["TRUNCATE"] } },
    grants: ["group analyst TRUNCATE sales.orders", "group analyst USAGE sales"],
  },
  {
    situation: "column subset -> SELECT (cols) and schema USAGE",
    policies: [policy(analyst, "TABLE", { pii: ["true"] }, ["SELECT"])],
    grants: ["group analyst SELECT sales.orders(email)", "group analyst USAGE sales"],
  },
  {
    situation: "database DESCRIBE -> USAGE; CREATE_TABLE -> CREATE; ALTER, DROP -> nothing",
    policies: [policy(analyst, "DATABASE", { access: ["public"] }, ["ALL"])],
    grants: ["group analyst CREATE sales", "group analyst USAGE sales"],
  },
  {
    situation: "two principals mapped to one group: subset + subset -> union of columns",
    databases: [database("sales", {}, [table("orders", {}, [["id", { a: "1" }], ["amount", { b: "1" }], "email"])])],
    policies: [policy(role("x"), "TABLE", { a: ["1"] }, ["SELECT"]), policy(role("y"), "TABLE", { b: ["1"] }, ["SELECT"])],
    mapping: { principals: { [role("x")]: "bi", [role("y")]: "bi" } },
    grants: ["group bi SELECT sales.orders(amount,id)", "group bi USAGE sales"],
    diagnostic: /warning: principals .*role\/x, .*role\/y all map to group "bi", which holds the union .* \(configured\)/,
  },
  {
    situation: "two principals mapped to one group: subset + full -> full",
    policies: [policy(role("x"), "TABLE", { pii: ["true"] }, ["SELECT"]), policy(role("y"), "TABLE", { access: ["public"] }, ["SELECT"])],
    mapping: { principals: { [role("x")]: "bi", [role("y")]: "bi" } },
    grants: ["group bi SELECT sales.orders", "group bi USAGE sales"],
    diagnostic: /all map to group "bi"/,
  },
  {
    situation: "two principals mapped to one group: full + subset -> full",
    policies: [policy(role("y"), "TABLE", { access: ["public"] }, ["SELECT"]), policy(role("x"), "TABLE", { pii: ["true"] }, ["SELECT"])],
    mapping: { principals: { [role("x")]: "bi", [role("y")]: "bi" } },
    grants: ["group bi SELECT sales.orders", "group bi USAGE sales"],
    diagnostic: /all map to group "bi"/,
  },
];

describe("mapEntitlements: one row per situation", () => {
  it.each(rows)("$situation", (row) => {
    const snapshot = catalog({ databases: row.databases ?? [sales], policies: row.policies ?? [publicSelect] });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(row.mapping), row.dialect ?? "redshift");
    expect(grantLines(state.grants)).toEqual([...row.grants].sort());
    const messages = state.diagnostics.map((d) => `${d.severity}: ${d.summary}`);
    if (row.diagnostic === undefined) expect(messages).toEqual([]);
    else expect(messages.some((m) => row.diagnostic!.test(m)), messages.join("\n")).toBe(true);
  });

  it("reports long names as errors, not warnings", () => {
    const snapshot = catalog({ databases: [database("sales", { access: "public" }, [table(long(64), {}, ["id"])])], policies: [publicSelect] });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "postgres");
    expect(state.diagnostics.map((d) => d.severity)).toEqual(["error"]);
  });

  it("lists every mapped grantee, also one with nothing to hold", () => {
    const snapshot = catalog({ databases: [sales], policies: [policy(analyst, "TABLE", { access: ["public"] }, ["DESCRIBE"])] });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "redshift");
    expect(state.grants).toEqual([]);
    expect(state.grantees).toEqual([{ kind: "group", name: "analyst" }]);
  });

  it("explains each grant by the policies behind it; USAGE by all of them", () => {
    const snapshot = catalog({
      databases: [sales],
      policies: [publicSelect, policy(analyst, "TABLE", { access: ["public"] }, ["INSERT"]), policy(analyst, "DATABASE", { access: ["public"] }, ["DESCRIBE"])],
    });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "redshift");
    const because = Object.fromEntries(state.grants.map((g) => [g.privilege, g.because]));
    const [p0, p1, p2] = resolvePolicies(snapshot).policies.map((p) => p.id);
    expect(because).toEqual({ SELECT: [p0], INSERT: [p1], USAGE: [p0, p1, p2].sort() });
    expect(state.policies.map((p) => p.id)).toEqual([p0, p1, p2].sort());
    expect(new Set(state.policies.map((p) => p.principal))).toEqual(new Set([analyst]));
  });

  it("lists identical policies once, and a grant's because names that one id", () => {
    const snapshot = catalog({ databases: [sales], policies: [publicSelect, publicSelect] });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "redshift");
    expect(state.policies).toHaveLength(1);
    expect(state.grants.find((g) => g.privilege === "SELECT")?.because).toEqual([state.policies[0]!.id]);
  });
});

describe("database globs", () => {
  it.each([
    [["*"], "sales/eu", true],
    [["sales*"], "sales/eu", true],
    [["sales?"], "sales1", true],
    [["sales?"], "sales", false],
    [["a.b"], "axb", false],
    [["we(ird)[1]"], "we(ird)[1]", true],
    [[], "anything", false],
  ] as const)("%j matches %s: %s", (patterns, name, expected) => {
    expect(globMatcher(patterns)(name)).toBe(expected);
  });
});
