import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GrantColumns, GrantRegistry, PRIVILEGE_ID } from "../../src/core/grant-columns.js";
import { compareStrings, type Grant, PRIVILEGES } from "../../src/core/grants.js";

const names = ["a", "b", "A", "a b", 'q"t', "ü", "a\u0001"];

const grantArb: fc.Arbitrary<Grant> = fc.record({
  grantee: fc.record({ kind: fc.constantFrom("group" as const, "role" as const), name: fc.constantFrom(...names) }),
  privilege: fc.constantFrom(...PRIVILEGES),
  object: fc.record({
    schema: fc.constantFrom(...names),
    table: fc.option(fc.constantFrom(...names), { nil: null }),
    columns: fc.option(fc.uniqueArray(fc.constantFrom(...names), { minLength: 1 }).map((c) => c.sort(compareStrings)), { nil: null }),
  }),
});

/** The plan order, spelled out on the objects. */
function compareGrants(a: Grant, b: Grant): number {
  const table = (g: Grant) => (g.object.table === null ? "" : `\u0001${g.object.table}`);
  return (
    compareStrings(a.object.schema, b.object.schema) ||
    compareStrings(table(a), table(b)) ||
    compareStrings(a.grantee.kind, b.grantee.kind) ||
    compareStrings(a.grantee.name, b.grantee.name) ||
    compareStrings(a.privilege, b.privilege)
  );
}

describe("GrantColumns", () => {
  it("round-trips grants through the registry", () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 40 }), (grants) => {
        const registry = new GrantRegistry();
        const columns = GrantColumns.from(grants, registry);
        expect(columns.length).toBe(grants.length);
        grants.forEach((g, i) => {
          const back = columns.grantAt(i, registry);
          expect({ grantee: back.grantee, privilege: back.privilege, object: back.object }).toEqual(g);
        });
      }),
    );
  });

  it("orders rows as schema, schema before its tables, table, grantee kind and name, privilege name; stable for equal slots", () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 60 }), (grants) => {
        const registry = new GrantRegistry();
        const columns = GrantColumns.from(grants, registry);
        const { order, keys } = columns.planOrder(registry.objectRanks(), registry.granteeRanks());
        const expected = grants.map((g, i) => ({ g, i })).sort((x, y) => compareGrants(x.g, y.g) || x.i - y.i).map((x) => x.i);
        expect([...order]).toEqual(expected);
        // Keys ascend, and are equal exactly for rows of one slot.
        for (let k = 1; k < order.length; k++) {
          const same = compareGrants(grants[order[k]!]!, grants[order[k - 1]!]!) === 0;
          expect(same ? keys[k] === keys[k - 1] : keys[k]! > keys[k - 1]!).toBe(true);
        }
      }),
    );
  });
});

describe("GrantRegistry column lists", () => {
  it("finds a list by content, also one added lazily, and tells lists of equal content apart from others", () => {
    const registry = new GrantRegistry();
    let made = 0;
    const lazy = registry.addLazyColumns(() => {
      made++;
      return ["a", "b"];
    });
    const eager = registry.addColumns(["a", "b"]);
    const other = registry.addColumns(["a"]);
    expect(made).toBe(0);
    expect(registry.sameColumns(lazy, lazy)).toBe(true);
    expect(made).toBe(0);
    expect(registry.sameColumns(lazy, eager)).toBe(true);
    expect(registry.sameColumns(eager, other)).toBe(false);
    expect(registry.sameColumns(0, other)).toBe(false);
    expect(registry.columnsId(["a", "b"])).toBe(lazy);
    expect(registry.columnsId(null)).toBe(0);
    expect(registry.columnList(eager)).toEqual(["a", "b"]);
    expect(made).toBe(1);
  });

  it("keeps the privilege ids of PRIVILEGES", () => {
    PRIVILEGES.forEach((p, i) => expect(PRIVILEGE_ID[p]).toBe(i));
  });
});
