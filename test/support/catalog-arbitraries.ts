import fc from "fast-check";
import type { DatabaseEntry, Expression, PolicyEntry, TableEntry, TagMap } from "../../src/catalog/model.js";

/**
 * fast-check generators of small catalogs, in the shape of resolve.property.test.ts: keys a, b, c
 * with values x, y (and `*` on a), databases d0.., tables t0.., columns c0.., principals p1 and p2.
 */
export const TAG_KEYS = ["a", "b", "c"] as const;
export const TAG_VALUES = ["x", "y", "*"] as const;
export const PRINCIPALS = ["arn:aws:iam::123456789012:role/p1", "arn:aws:iam::123456789012:role/p2"] as const;
const PERMISSIONS = ["ALL", "SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP", "CREATE_TABLE"];

export const tagMapArb: fc.Arbitrary<TagMap> = fc.record(
  { a: fc.constantFrom(...TAG_VALUES), b: fc.constantFrom("x", "y"), c: fc.constantFrom("x", "y") },
  { requiredKeys: [] },
);

/** Columns c0.. of one table; `maxColumns` bounds the universe the target knows. */
export const tableArb = (name: string, maxColumns: number): fc.Arbitrary<TableEntry> =>
  fc
    .record({ tags: tagMapArb, columns: fc.array(tagMapArb, { maxLength: maxColumns }) })
    .map(({ tags, columns }) => ({ name, tags, columns: columns.map((c, i) => ({ name: `c${i}`, tags: c })) }));

/** Table t of database d is named `tableName(d, t)` (default `t<t>`). */
export const databasesArb = (
  maxDatabases: number,
  maxTables: number,
  maxColumns: number,
  tableName: (d: number, t: number) => string = (_d, t) => `t${t}`,
): fc.Arbitrary<DatabaseEntry[]> =>
  fc
    .array(fc.tuple(tagMapArb, fc.array(fc.boolean(), { minLength: maxTables, maxLength: maxTables })), { minLength: 1, maxLength: maxDatabases })
    .chain((dbs) =>
      fc.tuple(
        ...dbs.map(([tags, present], d) =>
          fc
            .tuple(...present.map((p, t) => (p ? tableArb(tableName(d, t), maxColumns).map((x): TableEntry | null => x) : fc.constant(null))))
            .map((tables) => ({ name: `d${d}`, tags, tables: tables.filter((x): x is TableEntry => x !== null) })),
        ),
      ),
    );

export const expressionArb: fc.Arbitrary<Expression> = fc.dictionary(fc.constantFrom(...TAG_KEYS), fc.subarray([...TAG_VALUES]), { maxKeys: 3 });

export const policyArb: fc.Arbitrary<PolicyEntry> = fc
  .record({
    principal: fc.constantFrom(...PRINCIPALS),
    resourceType: fc.constantFrom("TABLE" as const, "TABLE" as const, "DATABASE" as const),
    named: fc.boolean(),
    expression: expressionArb,
    permissions: fc.subarray(PERMISSIONS, { minLength: 1 }),
  })
  .map(({ principal, resourceType, named, expression, permissions }) =>
    named ? { principal, resourceType, expressionName: "named", permissions } : { principal, resourceType, expression, permissions },
  );
