import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CatalogSnapshot, DatabaseEntry, Expression, PolicyEntry, TagMap } from "../../src/catalog/model.js";
import { resolvePolicies, tableEntitlements } from "../../src/core/resolve.js";
import { entitlementLines } from "../support/catalog-builders.js";

const KEYS = ["a", "b", "c"] as const;
const VALUES = ["x", "y", "*"] as const;
const TABLE_PERMS = ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"];
const DATABASE_PERMS = ["DESCRIBE", "CREATE_TABLE", "ALTER", "DROP"];

const tagMap: fc.Arbitrary<TagMap> = fc.record(
  { a: fc.constantFrom(...VALUES), b: fc.constantFrom("x", "y"), c: fc.constantFrom("x", "y") },
  { requiredKeys: [] },
);

const columnsArb = fc.array(tagMap, { maxLength: 4 });
const databasesArb: fc.Arbitrary<DatabaseEntry[]> = fc
  .array(fc.tuple(tagMap, fc.array(fc.tuple(tagMap, columnsArb), { maxLength: 3 })), { minLength: 1, maxLength: 2 })
  .map((dbs) =>
    dbs.map(([tags, tables], d) => ({
      name: `d${d}`,
      tags,
      tables: tables.map(([ttags, cols], t) => ({ name: `t${t}`, tags: ttags, columns: cols.map((ctags, c) => ({ name: `c${c}`, tags: ctags })) })),
    })),
  );

const expressionArb: fc.Arbitrary<Expression> = fc.dictionary(fc.constantFrom(...KEYS), fc.subarray([...VALUES]), { maxKeys: 3 });

const policyArb: fc.Arbitrary<PolicyEntry> = fc.record(
  {
    principal: fc.constantFrom("arn:aws:iam::123456789012:role/p1", "arn:aws:iam::123456789012:role/p2"),
    resourceType: fc.constantFrom("TABLE" as const, "TABLE" as const, "DATABASE" as const),
    expression: expressionArb,
    expressionName: fc.constantFrom("named", "missing"),
    permissions: fc.subarray(["ALL", "CREATE_TABLE", ...TABLE_PERMS]),
    condition: fc.constant("x"),
  },
  { requiredKeys: ["principal", "resourceType", "permissions"] },
);

const snapshotArb: fc.Arbitrary<CatalogSnapshot> = fc
  .record({ databases: databasesArb, policies: fc.array(policyArb, { maxLength: 5 }), named: expressionArb })
  .map(({ databases, policies, named }) => ({ tags: {}, databases, expressions: { named }, policies }));

/** Straight from DESIGN §2, with no interning, caching or grouping: one evaluation per column. */
function referenceLines(snapshot: CatalogSnapshot): string[] {
  const who = (p: string) => p.replace(/^.*:role\//, "");
  const matches = (e: Expression, tags: TagMap) =>
    Object.keys(e).every((k) => Object.hasOwn(tags, k) && tags[k] !== "*" && (e[k] ?? []).includes(tags[k]!));
  const lines = new Set<string>();
  const full = new Set<string>();
  const columns = new Map<string, Set<string>>();
  for (const p of snapshot.policies) {
    if (p.condition !== undefined && p.condition.trim() !== "") continue;
    const e = p.expressionName !== undefined ? (Object.hasOwn(snapshot.expressions, p.expressionName) ? snapshot.expressions[p.expressionName] : undefined) : (p.expression ?? {});
    if (e === undefined || Object.keys(e).length === 0) continue;
    const valid = p.resourceType === "TABLE" ? TABLE_PERMS : DATABASE_PERMS;
    const perms = p.permissions.includes("ALL") ? valid : valid.filter((x) => p.permissions.includes(x));
    for (const db of snapshot.databases) {
      if (p.resourceType === "DATABASE") {
        if (matches(e, db.tags)) for (const x of perms) lines.add(`${who(p.principal)} ${db.name} ${x}`);
        continue;
      }
      for (const t of db.tables) {
        const tableTags = { ...db.tags, ...t.tags };
        const cols = t.columns.length === 0 ? [{ name: "", tags: {} }] : t.columns;
        const matched = cols.filter((c) => matches(e, { ...tableTags, ...c.tags }));
        const where = `${who(p.principal)} ${db.name}.${t.name}`;
        if (matched.length === cols.length) {
          for (const x of perms) full.add(`${where} ${x}`);
        } else if (matched.length > 0 && perms.length > 0) {
          full.add(`${where} DESCRIBE`);
          if (perms.includes("SELECT")) {
            const set = columns.get(where) ?? new Set<string>();
            matched.forEach((c) => set.add(c.name));
            columns.set(where, set);
          }
        }
      }
    }
  }
  for (const [where, set] of columns) {
    if (!full.has(`${where} SELECT`)) lines.add(`${where} SELECT(${[...set].sort().join(",")})`);
  }
  return [...lines, ...full].sort();
}

describe("resolvePolicies: properties over random small catalogs", () => {
  it("equals a naive per-column reference implementation (principal x table x permission, column sets)", () => {
    fc.assert(
      fc.property(snapshotArb, (snapshot) => {
        expect(entitlementLines(resolvePolicies(snapshot))).toEqual(referenceLines(snapshot));
      }),
      { numRuns: 400 },
    );
  });

  it("never grants a table-level SELECT when a column does not match", () => {
    fc.assert(
      fc.property(snapshotArb, (snapshot) => {
        const result = resolvePolicies(snapshot);
        for (const t of tableEntitlements(result)) {
          if (!t.full.has("SELECT")) continue;
          const db = snapshot.databases.find((d) => d.name === t.database)!;
          const table = db.tables.find((x) => x.name === t.table)!;
          // Some single policy behind the SELECT must match every column on its own.
          const justified = t.full.get("SELECT")!.some((i) => {
            const p = snapshot.policies[i]!;
            const e = p.expressionName !== undefined ? snapshot.expressions[p.expressionName]! : p.expression!;
            const every = (tags: TagMap) => Object.keys(e).every((k) => tags[k] !== undefined && tags[k] !== "*" && e[k]!.includes(tags[k]!));
            const tableTags = { ...db.tags, ...table.tags };
            return table.columns.length === 0 ? every(tableTags) : table.columns.every((c) => every({ ...tableTags, ...c.tags }));
          });
          expect(justified, `${t.principal} ${t.database}.${t.table}`).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("does not depend on the order of policies (up to policy numbering)", () => {
    fc.assert(
      fc.property(snapshotArb, fc.func(fc.integer()), (snapshot, key) => {
        const shuffled = { ...snapshot, policies: [...snapshot.policies].sort((x, y) => key(x) - key(y)) };
        expect(entitlementLines(resolvePolicies(shuffled))).toEqual(entitlementLines(resolvePolicies(snapshot)));
      }),
      { numRuns: 200 },
    );
  });
});
