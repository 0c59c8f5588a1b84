import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors.js";
import { type DesiredGrant, type Dialect, tableKey } from "../../src/core/grants.js";
import { mapEntitlements } from "../../src/core/map.js";
import { planChanges } from "../../src/core/plan.js";
import { renderBatches, renderChange } from "../../src/core/render.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { quoteIdent, quoteLiteral } from "../../src/core/sql.js";
import { catalog, database, defaultMapping, desired, inventory, planInput, policy, role, table } from "../support/catalog-builders.js";

/** Catalog names are untrusted input (aws-facts §6.5): every one of these must stay one identifier. */
const HOSTILE = [
  'a"b',
  '""',
  "x; DROP TABLE y; --",
  "with space",
  "-- comment",
  "/* c */",
  "ünïcødé 表",
  "back\\slash",
  "new\nline",
  "tab\tcr\r",
  "O'Brien",
  "a, b",
  "(paren)",
  "select",
  "GROUP x",
] as const;

// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u009f]/;
const QUOTED = /"(?:[^"]|"")*"/g;
const unquote = (q: string) => q.slice(1, -1).replaceAll('""', '"');

/**
 * The statement grammar the renderer may produce, with every quoted identifier replaced by Q:
 * nothing else (no stray keyword, separator or comment) may appear outside quotes.
 */
const GRAMMAR: Record<Dialect, RegExp> = {
  redshift:
    /^(GRANT|REVOKE) (SELECT|INSERT|UPDATE|DELETE|DROP|REFERENCES|TRUNCATE|USAGE|CREATE)( \(Q(, Q)*\))? ON (TABLE Q\.Q(, Q\.Q)*|SCHEMA Q(, Q)*) (TO|FROM) (GROUP|ROLE) Q$/,
  postgres: /^(GRANT|REVOKE) (SELECT|INSERT|UPDATE|DELETE|REFERENCES|TRUNCATE|USAGE|CREATE)( \(Q(, Q)*\))? ON (TABLE Q\.Q(, Q\.Q)*|SCHEMA Q(, Q)*) (TO|FROM) Q$/,
};

function parseCheck(statement: string, dialect: Dialect): string[] {
  const names = [...statement.matchAll(QUOTED)].map((m) => unquote(m[0]));
  expect(statement.replace(QUOTED, "Q"), statement).toMatch(GRAMMAR[dialect]);
  return names;
}

describe("hostile identifiers are always one fully quoted identifier", () => {
  it.each(HOSTILE.map((name) => [name]))("quoteIdent(%j) round-trips", (name) => {
    const quoted = quoteIdent(name);
    expect(quoted.match(QUOTED)).toEqual([quoted]);
    expect(unquote(quoted)).toBe(name);
  });

  it.each<Dialect>(["redshift", "postgres"])("schema, table, column and grantee names in rendered %s SQL", (dialect) => {
    const columns = [...HOSTILE].sort();
    const wanted: DesiredGrant[] = HOSTILE.map((name, i) => ({
      grantee: { kind: i % 2 === 0 ? "group" : "role", name },
      privilege: "SELECT",
      object: { schema: name, table: name, columns: i % 3 === 0 ? columns : null },
      because: [],
    }));
    const usage = wanted.map((g) => ({ ...g, privilege: "USAGE" as const, object: { schema: g.object.schema, table: null, columns: null } }));
    const inv = {
      ...inventory({ tables: {}, grantees: wanted.map((g) => g.grantee) }),
      schemas: new Set(HOSTILE),
      tables: new Map(HOSTILE.map((n) => [tableKey(n, n), new Set(HOSTILE)] as const)),
    };
    const plan = planChanges(planInput({ desired: [...wanted, ...usage], inventory: inv, dialect }));
    expect(plan.changes).toHaveLength(wanted.length * 2);
    const batches = renderBatches(plan, { dialect, stateStatements: () => [] });
    const seen = new Set<string>();
    for (const statement of batches.flatMap((b) => b.statements)) for (const n of parseCheck(statement, dialect)) seen.add(n);
    expect([...seen].sort()).toEqual([...HOSTILE].sort());
    for (const c of plan.changes) {
      const names = parseCheck(renderChange(c, dialect), dialect);
      expect(names.at(-1)).toBe(c.grantee.name);
    }
  });

  it("property: any printable name renders as exactly the quoted identifiers asked for", () => {
    const name = fc.string({ unit: fc.constantFrom('"', ";", " ", "-", "\\", "\n", "'", ",", "(", ")", "a", "é", "表", "*", "/"), minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(name, name, name, name, (schema, tbl, column, grantee) => {
        for (const dialect of ["redshift", "postgres"] as const) {
          const change = { ...desired({ kind: "role", name: grantee }, "SELECT", "x"), object: { schema, table: tbl, columns: [column] }, op: "grant" as const, reason: "grantBecausePolicy" as const };
          expect(parseCheck(renderChange(change, dialect), dialect)).toEqual([column, schema, tbl, grantee]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("survives the whole pipeline: catalog -> resolve -> map -> plan -> SQL", () => {
    // Redshift identifiers are printable characters only (r_names): the others are refused below.
    const pipelineNames = HOSTILE.filter((n) => !NOT_PRINTABLE.test(n));
    const snapshot = catalog({
      databases: pipelineNames.map((n) => database(n.toLowerCase(), { access: "public" }, [table(n.toLowerCase(), {}, [n.toLowerCase(), ["secret", { access: "restricted" }]])])),
      policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
    });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "redshift");
    expect(state.diagnostics).toEqual([]);
    const lower = pipelineNames.map((n) => n.toLowerCase());
    const inv = {
      ...inventory({ tables: {}, grantees: ["analyst"] }),
      schemas: new Set(lower),
      tables: new Map(lower.map((n) => [tableKey(n, n), new Set([n, "secret"])] as const)),
    };
    const plan = planChanges(planInput({ desired: state.grants, inventory: inv }));
    const statements = renderBatches(plan, { dialect: "redshift", stateStatements: () => [] }).flatMap((b) => b.statements);
    const names = new Set(statements.flatMap((s) => parseCheck(s, "redshift")));
    for (const n of lower) expect(names.has(n), n).toBe(true);
    expect(names.has("secret")).toBe(false);
  });
});

describe("names Redshift cannot hold", () => {
  // r_names: "Identifiers must consist of only UTF-8 printable characters." A Glue name with a tab
  // (Glue's single-line pattern allows it) can never exist in Redshift: an error, never SQL.
  const UNPRINTABLE = ["tab\tname", "new\nline", "cr\rname", "del\u007fname", "c1\u0085name"];

  it.each(UNPRINTABLE.map((n) => [n]))("redshift: %j as a schema, table, column or grantee is reported and skipped", (bad) => {
    const snapshot = catalog({
      databases: [
        database("sales", { access: "public" }, [table("orders", {}, ["id", bad]), table(bad, {}, ["id"])]),
        database(bad, { access: "public" }, [table("t", {}, ["id"])]),
      ],
      policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"]), policy(`arn:aws:iam::123456789012:role/x`, "TABLE", { access: ["public"] }, ["SELECT"])],
    });
    const mapping = defaultMapping({ principals: { "arn:aws:iam::123456789012:role/x": { name: bad, kind: "role" } } });
    const state = mapEntitlements(resolvePolicies(snapshot), mapping, "redshift");
    const names = state.grants.flatMap((g) => [g.grantee.name, g.object.schema, g.object.table ?? "", ...(g.object.columns ?? [])]);
    expect(names.filter((n) => NOT_PRINTABLE.test(n))).toEqual([]);
    const errors = state.diagnostics.filter((d) => d.severity === "error").map((d) => d.summary);
    expect(errors.some((m) => m.includes("printable")), errors.join("\n")).toBe(true);
    expect(state.grants.some((g) => g.object.table === "orders" && g.grantee.name === "analyst")).toBe(true);
  });

  it("postgres keeps such names: a quoted PostgreSQL identifier may hold them", () => {
    const snapshot = catalog({
      databases: [database("sales", { access: "public" }, [table("tab\tname", {}, ["id"])])],
      policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
    });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "postgres");
    expect(state.diagnostics).toEqual([]);
    expect(state.grants.map((g) => g.object.table)).toContain("tab\tname");
  });
});

describe("NUL cannot reach SQL", () => {
  it("quoteIdent and quoteLiteral refuse it with SyncError NAME_INVALID", () => {
    for (const call of [() => quoteIdent("a\u0000b"), () => quoteLiteral("a\u0000b", "redshift"), () => quoteLiteral("\u0000", "postgres"), () => quoteIdent("")]) {
      expect(call).toThrow(SyncError);
      try {
        call();
      } catch (e) {
        expect((e as SyncError).code).toBe("NAME_INVALID");
      }
    }
  });

  it("renderChange refuses a NUL in any name", () => {
    const base = { ...desired("analyst", "SELECT", "s.t(c)"), op: "grant" as const, reason: "grantBecausePolicy" as const };
    const variants = [
      { ...base, grantee: { kind: "group" as const, name: "a\u0000" } },
      { ...base, object: { schema: "s\u0000", table: "t", columns: ["c"] } },
      { ...base, object: { schema: "s", table: "t\u0000", columns: ["c"] } },
      { ...base, object: { schema: "s", table: "t", columns: ["c\u0000"] } },
    ];
    for (const v of variants) expect(() => renderChange(v, "redshift")).toThrow(expect.objectContaining({ code: "NAME_INVALID" }));
  });

  it("the mapper reports NUL names as errors and skips them instead of failing the run", () => {
    const snapshot = catalog({
      databases: [database("sales", { access: "public" }, [table("bad\u0000name", {}, ["id"]), table("good", {}, ["id", "c\u0000"])])],
      policies: [policy(role("analyst"), "TABLE", { access: ["public"] }, ["SELECT"])],
    });
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "postgres");
    expect(state.diagnostics.filter((d) => d.severity === "error")).toHaveLength(1);
    expect(state.grants.map((g) => g.object.table)).toEqual(["good", null]);
  });
});

describe("quoteLiteral", () => {
  it.each<[string, Dialect, string]>([
    ["O'Brien", "redshift", "'O''Brien'"],
    ["O'Brien", "postgres", "E'O''Brien'"],
    ["back\\slash'", "redshift", "'back\\\\slash'''"],
    ["back\\slash'", "postgres", "E'back\\\\slash'''"],
  ])("%j in %s -> %s", (value, dialect, expected) => {
    expect(quoteLiteral(value, dialect)).toBe(expected);
  });
});
