import { describe, expect, it } from "vitest";
import { explainAccess } from "../../../src/core/access/explain.js";
import { catalog, database, grant, policy, role, table } from "../../support/catalog-builders.js";

const snapshot = catalog({
  databases: [database("sales", { access: "public" }, [table("orders", { region: "eu" }, ["id", ["email", { pii: "true" }]])])],
  policies: [
    policy(role("analyst"), "TABLE", { access: ["public"], pii: ["false"] }, ["SELECT"]),
    policy(role("analyst"), "TABLE", { access: ["public"] }, ["INSERT"]),
    policy(role("analyst"), "TABLE", "euOnly", ["SELECT"]),
    policy(role("other"), "TABLE", { access: ["public"] }, ["SELECT"]),
  ],
  expressions: { euOnly: { region: ["us"] } },
});

const explain = (column?: string) =>
  explainAccess({ snapshot, isGrantee: (p) => p === role("analyst"), database: "sales", table: "orders", held: [grant("analyst", "SELECT", "sales.orders(id)")], ...(column === undefined ? {} : { column }) });

describe("explain", () => {
  it("evaluates only the grantee's policies, per column, with the failing keys and their origin", () => {
    const e = explain()!;
    expect(e.policies.map((p) => [p.expression, p.outcome, p.matchedColumns])).toEqual([
      ["access in (public) AND pii in (false)", "none", []],
      ["access in (public)", "full", ["id", "email"]],
      ["euOnly: region in (us)", "none", []],
    ]);
    expect(e.policies[0]!.failing).toEqual([{ key: "pii", allowed: ["false"], actual: null }]);
    expect(e.policies[2]!.failing).toEqual([{ key: "region", allowed: ["us"], actual: { key: "region", value: "eu", level: "table" } }]);
    expect(e.held.length).toBe(1);
  });

  it("a column's own tags override the table's and are named as column-level", () => {
    const e = explain("email")!;
    expect(e.tags).toContainEqual({ key: "pii", value: "true", level: "column", column: "email" });
    expect(e.policies[0]!.failing).toEqual([{ key: "pii", allowed: ["false"], actual: { key: "pii", value: "true", level: "column", column: "email" } }]);
  });

  it("says so when a policy's saved expression is missing, and when the table is unknown", () => {
    const broken = catalog({ databases: snapshot.databases, policies: [policy(role("analyst"), "TABLE", "gone", ["SELECT"])] });
    const e = explainAccess({ snapshot: broken, isGrantee: () => true, database: "sales", table: "orders", held: [] })!;
    expect(e.policies[0]!.outcome).toBe("skipped");
    expect(explainAccess({ snapshot, isGrantee: () => true, database: "sales", table: "nope", held: [] })).toBeUndefined();
  });
});
