import { describe, expect, it } from "vitest";
import type { CatalogSnapshot, DatabaseEntry, PolicyEntry } from "../../src/catalog/model.js";
import { resolvePolicies, tableEntitlements } from "../../src/core/resolve.js";
import { catalog, database, entitlementLines, policy, role, table } from "../support/catalog-builders.js";

const analyst = role("analyst");
const auditor = role("auditor");

/** sales.orders(id, amount, email PII=true), database Access=public. */
const sales: DatabaseEntry = database("sales", { access: "public" }, [
  table("orders", {}, ["id", "amount", ["email", { pii: "true" }]]),
]);

interface Row {
  readonly situation: string;
  readonly databases?: readonly DatabaseEntry[];
  readonly policies: readonly PolicyEntry[];
  readonly expressions?: CatalogSnapshot["expressions"];
  readonly grants: readonly string[];
  readonly warning?: RegExp;
}

const rows: readonly Row[] = [
  // Inheritance and override (aws-facts §1.2, trap 6)
  {
    situation: "db Access=public, table and columns untagged -> the table inherits: SELECT at table level",
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id", "amount"])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: ["analyst sales.orders SELECT"],
  },
  {
    situation: "db Access=internal, table Access=public -> the table's value replaces the db's: no match for internal",
    databases: [database("sales", { access: "internal" }, [table("orders", { access: "public" }, ["id"])])],
    policies: [policy(analyst, "TABLE", { access: ["internal"] }, ["SELECT"])],
    grants: [],
  },
  {
    situation: "db Access=internal, table Access=public -> matches public",
    databases: [database("sales", { access: "internal" }, [table("orders", { access: "public" }, ["id"])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: ["analyst sales.orders SELECT"],
  },
  {
    situation: "orders.email Access=restricted overrides public -> SELECT on (amount, id) only",
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id", "amount", ["email", { access: "restricted" }]])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: ["analyst sales.orders DESCRIBE", "analyst sales.orders SELECT(amount,id)"],
  },
  {
    situation: "db public, table internal, column public (three levels) -> only that column for public",
    databases: [database("sales", { access: "public" }, [table("orders", { access: "internal" }, ["id", ["note", { access: "public" }]])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: ["analyst sales.orders DESCRIBE", "analyst sales.orders SELECT(note)"],
  },
  {
    situation: "db public, table internal, column public (three levels) -> internal gets the other columns",
    databases: [database("sales", { access: "public" }, [table("orders", { access: "internal" }, ["id", ["note", { access: "public" }]])])],
    policies: [policy(analyst, "TABLE", { access: ["internal"] }, ["SELECT"])],
    grants: ["analyst sales.orders DESCRIBE", "analyst sales.orders SELECT(id)"],
  },
  // Expressions: AND across keys, OR within a key (aws-facts §1.3, trap 7)
  {
    situation: "orders.email PII=true, expression Access=public AND PII=false -> SELECT on (amount, id) only",
    databases: [database("sales", { access: "public" }, [table("orders", { pii: "false" }, ["id", "amount", ["email", { pii: "true" }]])])],
    policies: [policy(analyst, "TABLE", { access: ["public"], pii: ["false"] }, ["SELECT"])],
    grants: ["analyst sales.orders DESCRIBE", "analyst sales.orders SELECT(amount,id)"],
  },
  {
    situation: "Access in (public, internal) -> both a public and an internal table",
    databases: [database("sales", {}, [table("a", { access: "public" }, ["x"]), table("b", { access: "internal" }, ["x"]), table("c", { access: "restricted" }, ["x"])])],
    policies: [policy(analyst, "TABLE", { access: ["public", "internal"] }, ["SELECT"])],
    grants: ["analyst sales.a SELECT", "analyst sales.b SELECT"],
  },
  {
    situation: "expression PII=false on columns without the PII key -> they do not match",
    databases: [sales],
    policies: [policy(analyst, "TABLE", { pii: ["false"] }, ["SELECT"])],
    grants: [],
  },
  {
    situation: "table carries an extra key Owner=x the expression does not name -> ignored",
    databases: [database("sales", { access: "public" }, [table("orders", { owner: "x" }, ["id"])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: ["analyst sales.orders SELECT"],
  },
  // Named expressions (aws-facts §1.6, trap 3)
  {
    situation: "expressionName public_data with an empty inline list -> the name wins",
    databases: [sales],
    expressions: { public_data: { access: ["public"] } },
    policies: [policy(analyst, "TABLE", {}, ["SELECT"], { expressionName: "public_data" })],
    grants: ["analyst sales.orders SELECT"],
  },
  {
    situation: "unknown expression name -> warning, policy skipped",
    databases: [sales],
    policies: [policy(analyst, "TABLE", "nope", ["SELECT"])],
    grants: [],
    warning: /names expression "nope", which does not exist/,
  },
  {
    situation: "expression name toString (an Object.prototype member) -> unknown, not an empty expression",
    databases: [sales],
    policies: [policy(analyst, "TABLE", "toString", ["SELECT"])],
    grants: [],
    warning: /names expression "toString", which does not exist/,
  },
  {
    situation: "empty inline expression and no name -> warning, skipped (never 'everything')",
    databases: [sales],
    policies: [policy(analyst, "TABLE", {}, ["SELECT"])],
    grants: [],
    warning: /empty expression/,
  },
  // Column precision (aws-facts §1.5, trap 8)
  {
    situation: "INSERT, DELETE, ALTER, DROP where some columns match -> only DESCRIBE",
    databases: [database("sales", { access: "public" }, [table("orders", { pii: "false" }, ["id", ["email", { pii: "true" }]])])],
    policies: [policy(analyst, "TABLE", { pii: ["false"] }, ["INSERT", "DELETE", "ALTER", "DROP"])],
    grants: ["analyst sales.orders DESCRIBE"],
  },
  {
    situation: "ALL where some columns match -> SELECT on them + DESCRIBE",
    databases: [database("sales", { access: "public" }, [table("orders", { pii: "false" }, ["id", "amount", ["email", { pii: "true" }]])])],
    policies: [policy(analyst, "TABLE", { pii: ["false"] }, ["ALL"])],
    grants: ["analyst sales.orders DESCRIBE", "analyst sales.orders SELECT(amount,id)"],
  },
  {
    situation: "ALL where every column matches -> every table permission at table level",
    databases: [sales],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["ALL"])],
    grants: ["ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"].map((p) => `analyst sales.orders ${p}`),
  },
  {
    situation: "table Access=public but every column Access=restricted -> nothing",
    databases: [database("sales", {}, [table("orders", { access: "public" }, [["id", { access: "restricted" }], ["amount", { access: "restricted" }]])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT", "DESCRIBE"])],
    grants: [],
  },
  {
    situation: "partition key dt PII=true (listed with the columns) -> a subset like any column",
    databases: [database("logs", { pii: "false" }, [table("events", {}, ["id", "body", ["dt", { pii: "true" }]])])],
    policies: [policy(analyst, "TABLE", { pii: ["false"] }, ["SELECT"])],
    grants: ["analyst logs.events DESCRIBE", "analyst logs.events SELECT(body,id)"],
  },
  {
    situation: "table without columns Access=public -> the table's own tags decide: match",
    databases: [database("sales", {}, [table("empty", { access: "public" }, [])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: ["analyst sales.empty SELECT"],
  },
  {
    situation: "table without columns Access=internal -> no match",
    databases: [database("sales", {}, [table("empty", { access: "internal" }, [])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: [],
  },
  // Several policies for one principal union
  {
    situation: "full SELECT from one policy + a subset from another -> full SELECT",
    databases: [database("sales", { access: "public" }, [table("orders", { pii: "false" }, ["id", "amount", ["email", { pii: "true" }]])])],
    policies: [policy(analyst, "TABLE", { access: ["public"], pii: ["false"] }, ["SELECT"]), policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"])],
    grants: ["analyst sales.orders DESCRIBE", "analyst sales.orders SELECT"],
  },
  {
    situation: "two subsets -> the union of their columns",
    databases: [database("sales", {}, [table("orders", {}, [["id", { a: "1" }], ["amount", { b: "1" }], ["email", { c: "1" }]])])],
    policies: [policy(analyst, "TABLE", { a: ["1"] }, ["SELECT"]), policy(analyst, "TABLE", { b: ["1"] }, ["SELECT"])],
    grants: ["analyst sales.orders DESCRIBE", "analyst sales.orders SELECT(amount,id)"],
  },
  {
    situation: "two principals -> separate entitlements",
    databases: [sales],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"]), policy(auditor, "TABLE", { pii: ["true"] }, ["SELECT"])],
    grants: ["analyst sales.orders SELECT", "auditor sales.orders DESCRIBE", "auditor sales.orders SELECT(email)"],
  },
  // DATABASE policies
  {
    situation: "DATABASE policy Access=public on db Access=internal with a public table -> nothing (database tags only)",
    databases: [database("sales", { access: "internal" }, [table("orders", { access: "public" }, ["id"])])],
    policies: [policy(analyst, "DATABASE", { access: ["public"] }, ["DESCRIBE"])],
    grants: [],
  },
  {
    situation: "DATABASE policy Access=internal on db Access=internal -> database permissions, no table ones",
    databases: [database("sales", { access: "internal" }, [table("orders", { access: "public" }, ["id"])])],
    policies: [policy(analyst, "DATABASE", { access: ["internal"] }, ["DESCRIBE", "CREATE_TABLE"])],
    grants: ["analyst sales CREATE_TABLE", "analyst sales DESCRIBE"],
  },
  {
    situation: "DATABASE policy ALL -> every database permission",
    databases: [sales],
    policies: [policy(analyst, "DATABASE", { access: ["public"] }, ["ALL"])],
    grants: ["ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"].map((p) => `analyst sales ${p}`),
  },
  {
    situation: "CREATE_TABLE on a TABLE policy -> warning, ignored",
    databases: [sales],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["CREATE_TABLE"])],
    grants: [],
    warning: /CREATE_TABLE cannot be granted by a TABLE tag policy/,
  },
  // Untranslatable parts (DESIGN §2, trap 21)
  {
    situation: "value * in an expression -> matches nothing, warning",
    databases: [sales],
    policies: [policy(analyst, "TABLE", { access: ["*"] }, ["SELECT"])],
    grants: [],
    warning: /value \* for tag access/,
  },
  {
    situation: "value * in an expression, resource tagged with the literal value * -> still nothing",
    databases: [database("sales", { access: "*" }, [table("orders", {}, ["id"])])],
    policies: [policy(analyst, "TABLE", { access: ["*"] }, ["SELECT"]), policy(analyst, "DATABASE", { access: ["*"] }, ["DESCRIBE"])],
    grants: [],
    warning: /value \* for tag access/,
  },
  {
    situation: "policy with a condition -> skipped, warning",
    databases: [sales],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"], { condition: 'context.region == "eu"' })],
    grants: [],
    warning: /has a condition/,
  },
  {
    situation: "policy with grant options -> granted without them, warning",
    databases: [database("sales", { access: "public" }, [table("orders", {}, ["id"])])],
    policies: [policy(analyst, "TABLE", { access: ["public"] }, ["SELECT"], { permissionsWithGrantOption: ["SELECT"] })],
    grants: ["analyst sales.orders SELECT"],
    warning: /grant options/,
  },
];

describe("resolvePolicies: Lake Formation semantics, one row per situation", () => {
  it.each(rows)("$situation", (row) => {
    const result = resolvePolicies(catalog({ databases: row.databases ?? [sales], policies: row.policies, expressions: row.expressions ?? {} }));
    expect(entitlementLines(result)).toEqual([...row.grants].sort());
    const warnings = result.diagnostics.map((d) => d.summary);
    if (row.warning === undefined) expect(warnings).toEqual([]);
    else expect(warnings.some((w) => row.warning!.test(w)), warnings.join("\n")).toBe(true);
  });

  it("lists every policy as a PolicyRef whose id depends on what it says, never on its position", () => {
    const expressions = { public_data: { access: ["public"] } };
    const first = policy(analyst, "TABLE", { pii: ["false"], access: ["public", "internal"] }, ["SELECT"]);
    const second = policy(analyst, "TABLE", "public_data", ["select"]);
    const refs = resolvePolicies(catalog({ databases: [sales], expressions, policies: [first, second] })).policies;
    expect(refs.map(({ id: _, ...rest }) => rest)).toEqual([
      { principal: analyst, resourceType: "TABLE", expression: "access in (public, internal) AND pii in (false)", permissions: ["SELECT"] },
      { principal: analyst, resourceType: "TABLE", expression: "public_data: access in (public)", permissions: ["SELECT"] },
    ]);
    expect(refs[0]!.id).toMatch(/^[0-9a-f]{12}$/);
    expect(refs[0]!.id).not.toBe(refs[1]!.id);
    const reordered = resolvePolicies(catalog({ databases: [sales], expressions, policies: [second, first] })).policies;
    expect(reordered.map((r) => r.id)).toEqual([refs[1]!.id, refs[0]!.id]);
    const respelled = policy(analyst, "TABLE", { access: ["internal", "public"], pii: ["false"] }, ["SELECT"]);
    expect(resolvePolicies(catalog({ databases: [sales], policies: [respelled] })).policies[0]!.id).toBe(refs[0]!.id);
    const otherPrincipal = policy("arn:aws:iam::123456789012:role/bi", "TABLE", { pii: ["false"], access: ["public", "internal"] }, ["SELECT"]);
    expect(resolvePolicies(catalog({ databases: [sales], policies: [otherPrincipal] })).policies[0]!.id).not.toBe(refs[0]!.id);
  });

  it("remembers which policies caused each part of an entitlement", () => {
    const result = resolvePolicies(
      catalog({
        databases: [sales],
        policies: [policy(analyst, "TABLE", { access: ["public"] }, ["INSERT"]), policy(analyst, "TABLE", { access: ["public"] }, ["SELECT", "INSERT"])],
      }),
    );
    const [orders] = tableEntitlements(result);
    expect(orders?.full.get("INSERT")).toEqual([0, 1]);
    expect(orders?.full.get("SELECT")).toEqual([1]);
  });
});
