import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareStrings, type Grant, tableKey } from "../../src/core/grants.js";
import { quoteIdent } from "../../src/core/sql.js";
import type { SqlExecutor } from "../../src/warehouse/executor.js";
import { readPostgresInventory } from "../../src/warehouse/inventory-postgres.js";
import type { PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { executorBackends } from "../support/postgres.js";

const HOSTILE = 'we"ird; DROP TABLE x; --';
const W = quoteIdent(HOSTILE);
const TABLE = "tãble ☃";
const QUOTED = "inv_o'brien\\x";

// Roles are cluster-wide on a real server: the fixture's role names are unique to this file.
const FIXTURE = `
  CREATE SCHEMA sales;
  CREATE SCHEMA ${W};
  CREATE SCHEMA "données";
  CREATE SCHEMA lfsync;
  CREATE TABLE lfsync.grants (grant_key TEXT);
  CREATE TABLE sales.orders (id INT, amount NUMERIC, email TEXT);
  ALTER TABLE sales.orders DROP COLUMN amount;
  CREATE VIEW sales.v AS SELECT id FROM sales.orders;
  CREATE MATERIALIZED VIEW sales.mv AS SELECT id FROM sales.orders;
  CREATE TABLE sales.part (id INT, d DATE) PARTITION BY RANGE (d);
  CREATE TABLE sales.empty ();
  CREATE TABLE ${W}.${quoteIdent(TABLE)} ("côl" INT, ${W} INT);
  CREATE GROUP inv_analyst;
  CREATE GROUP ${quoteIdent(`inv_${HOSTILE}`)};
  CREATE ROLE "inv_rôle";
  CREATE GROUP inv_other;
  CREATE ROLE ${quoteIdent(QUOTED)};
  GRANT SELECT ON sales.v TO ${quoteIdent(QUOTED)};
  GRANT USAGE ON SCHEMA sales TO GROUP inv_analyst;
  GRANT SELECT, INSERT, TRIGGER ON sales.orders TO GROUP inv_analyst;
  GRANT SELECT (id, email), UPDATE (email) ON sales.orders TO "inv_rôle";
  GRANT USAGE, CREATE ON SCHEMA ${W} TO ${quoteIdent(`inv_${HOSTILE}`)};
  GRANT SELECT ("côl") ON ${W}.${quoteIdent(TABLE)} TO ${quoteIdent(`inv_${HOSTILE}`)};
  GRANT SELECT ON sales.v, sales.orders TO inv_other;
  GRANT USAGE ON SCHEMA sales TO inv_other;
  GRANT SELECT ON lfsync.grants TO inv_analyst;
`;

const hostileGrantee = `inv_${HOSTILE}`;

function grant(kind: "group" | "role", name: string, privilege: Grant["privilege"], schema: string, table: string | null, columns: string[] | null): Grant {
  return { grantee: { kind, name }, privilege, object: { schema, table, columns } };
}

describe.each(executorBackends())("PostgreSQL inventory on $name", (backend) => {
  let executor: PostgresExecutor;
  beforeAll(async () => {
    executor = await backend.open();
    await executor.execScript(FIXTURE);
  });
  afterAll(async () => {
    await executor.close();
  });

  const request = {
    grantees: [
      { kind: "group", name: "inv_analyst" },
      { kind: "role", name: "inv_rôle" },
      { kind: "group", name: hostileGrantee },
      { kind: "role", name: hostileGrantee },
      { kind: "group", name: "inv_ghost" },
      { kind: "role", name: QUOTED },
    ],
    excludeSchemas: ["lfsync"],
  } as const;

  it("lists schemas without system schemas and excluded ones", async () => {
    const inventory = await readPostgresInventory(executor, request);
    expect([...inventory.schemas].sort()).toEqual(["données", "public", "sales", HOSTILE].sort());
  });

  it("lists tables, views, materialized views and partitioned tables with their live columns", async () => {
    const inventory = await readPostgresInventory(executor, request);
    const tables = Object.fromEntries([...inventory.tables].map(([key, columns]) => [key, [...columns]]));
    expect(tables).toEqual({
      [tableKey("sales", "orders")]: ["id", "email"],
      [tableKey("sales", "v")]: ["id"],
      [tableKey("sales", "mv")]: ["id"],
      [tableKey("sales", "part")]: ["id", "d"],
      [tableKey("sales", "empty")]: [],
      [tableKey(HOSTILE, TABLE)]: ["côl", HOSTILE],
    });
  });

  it("lists every role under both grantee kinds", async () => {
    const inventory = await readPostgresInventory(executor, request);
    for (const name of ["inv_analyst", "inv_rôle", "inv_other", hostileGrantee]) {
      expect(inventory.grantees).toContain(`group:${name}`);
      expect(inventory.grantees).toContain(`role:${name}`);
    }
    expect(inventory.grantees).not.toContain("group:inv_ghost");
  });

  it("reports exactly the explicit privileges of the requested grantees", async () => {
    const inventory = await readPostgresInventory(executor, request);
    expect(inventory.held).toEqual([
      grant("group", "inv_analyst", "USAGE", "sales", null, null),
      grant("group", "inv_analyst", "INSERT", "sales", "orders", null),
      grant("group", "inv_analyst", "SELECT", "sales", "orders", null),
      grant("role", "inv_rôle", "SELECT", "sales", "orders", ["email", "id"]),
      grant("role", "inv_rôle", "UPDATE", "sales", "orders", ["email"]),
      grant("role", QUOTED, "SELECT", "sales", "v", null),
      grant("group", hostileGrantee, "CREATE", HOSTILE, null, null),
      grant("group", hostileGrantee, "USAGE", HOSTILE, null, null),
      grant("role", hostileGrantee, "CREATE", HOSTILE, null, null),
      grant("role", hostileGrantee, "USAGE", HOSTILE, null, null),
      grant("group", hostileGrantee, "SELECT", HOSTILE, TABLE, ["côl"]),
      grant("role", hostileGrantee, "SELECT", HOSTILE, TABLE, ["côl"]),
    ]);
  });

  it("reads no privileges when no grantee is requested", async () => {
    const inventory = await readPostgresInventory(executor, { grantees: [], excludeSchemas: [] });
    expect(inventory.held).toEqual([]);
    expect(inventory.schemas).toContain("lfsync");
  });

  it("reads any name exactly and sorts in JavaScript string order, not the server's", async () => {
    // U+1F600 is a surrogate pair in UTF-16 (0xD83D...), so it sorts before U+FF5E in JavaScript
    // but after it in the server's byte order.
    const schema = 'odd, "schema"\n\\ [x] {y}';
    const [smiley, tilde] = ["t\u{1F600}", "t\uff5e"];
    const role = 'inv_odd, "role"\n\\ [x]';
    const columns = ["c,1", 'c"2', "c\\3", "c\n4", "c\u{1F600}", "c\uff5e", "{c}", "[c]", "c'5"];
    const granted = columns.filter((column) => column !== "{c}");
    await executor.execScript(`
      CREATE SCHEMA ${quoteIdent(schema)};
      CREATE TABLE ${quoteIdent(schema)}.${quoteIdent(tilde)} (${columns.map((c) => `${quoteIdent(c)} INT`).join(", ")});
      CREATE TABLE ${quoteIdent(schema)}.${quoteIdent(smiley)} (x INT);
      CREATE ROLE ${quoteIdent(role)};
      GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)};
      GRANT SELECT ON ${quoteIdent(schema)}.${quoteIdent(tilde)}, ${quoteIdent(schema)}.${quoteIdent(smiley)} TO ${quoteIdent(role)};
      GRANT SELECT (${granted.map(quoteIdent).join(", ")}) ON ${quoteIdent(schema)}.${quoteIdent(tilde)} TO ${quoteIdent(role)};
      GRANT UPDATE (${quoteIdent("c\n4")}) ON ${quoteIdent(schema)}.${quoteIdent(tilde)} TO ${quoteIdent(role)};`);
    const inventory = await readPostgresInventory(executor, { grantees: [{ kind: "role", name: role }], excludeSchemas: [] });
    expect(inventory.schemas).toContain(schema);
    expect([...inventory.tables.get(tableKey(schema, tilde))!]).toEqual(columns);
    expect([...inventory.tables.get(tableKey(schema, smiley))!]).toEqual(["x"]);
    expect(inventory.grantees).toContain(`role:${role}`);
    const sortedGranted = ["[c]", "c\n4", 'c"2', "c'5", "c,1", "c\\3", "c\u{1F600}", "c\uff5e"];
    expect([...granted].sort(compareStrings)).toEqual(sortedGranted);
    expect(inventory.held).toEqual([
      grant("role", role, "USAGE", schema, null, null),
      grant("role", role, "SELECT", schema, smiley, null),
      grant("role", role, "SELECT", schema, tilde, null),
      grant("role", role, "SELECT", schema, tilde, sortedGranted),
      grant("role", role, "UPDATE", schema, tilde, ["c\n4"]),
    ]);
  });

  it("reports a privilege once, whoever granted it, and a table-level grant before a column-level one", async () => {
    // An ACL lists a privilege once per grantor: inv_twice holds SELECT from the owner and from inv_grantor.
    await executor.execScript(`
      CREATE SCHEMA twice;
      CREATE TABLE twice.t (a INT, b INT);
      CREATE TABLE twice.c (a INT, b INT);
      CREATE ROLE inv_grantor;
      CREATE ROLE inv_twice;
      GRANT USAGE ON SCHEMA twice TO inv_grantor, inv_twice;
      GRANT SELECT ON twice.t TO inv_grantor WITH GRANT OPTION;
      GRANT SELECT (a) ON twice.c TO inv_grantor WITH GRANT OPTION;
      SET ROLE inv_grantor;
      GRANT SELECT ON twice.t TO inv_twice;
      GRANT SELECT (a) ON twice.c TO inv_twice;
      RESET ROLE;
      GRANT SELECT ON twice.t TO inv_twice;
      GRANT SELECT (b) ON twice.t TO inv_twice;
      GRANT SELECT (a, b) ON twice.c TO inv_twice;`);
    const twice = [
      { kind: "role", name: "inv_twice" },
      { kind: "group", name: "inv_twice" },
    ] as const;
    const inventory = await readPostgresInventory(executor, { grantees: twice, excludeSchemas: [] });
    expect(inventory.held.filter((held) => held.object.schema === "twice")).toEqual([
      grant("group", "inv_twice", "USAGE", "twice", null, null),
      grant("role", "inv_twice", "USAGE", "twice", null, null),
      grant("group", "inv_twice", "SELECT", "twice", "c", ["a", "b"]),
      grant("role", "inv_twice", "SELECT", "twice", "c", ["a", "b"]),
      grant("group", "inv_twice", "SELECT", "twice", "t", null),
      grant("group", "inv_twice", "SELECT", "twice", "t", ["b"]),
      grant("role", "inv_twice", "SELECT", "twice", "t", null),
      grant("role", "inv_twice", "SELECT", "twice", "t", ["b"]),
    ]);
  });

  it("uses the same few queries whatever the number of tables (DESIGN §6)", async () => {
    const counting = (target: SqlExecutor): { executor: SqlExecutor; count: () => number } => {
      let queries = 0;
      return {
        executor: { ...target, dialect: target.dialect, query: (sql) => (queries++, target.query(sql)) },
        count: () => queries,
      };
    };
    const before = counting(executor);
    await readPostgresInventory(before.executor, request);
    await executor.execScript(`
      CREATE SCHEMA bulk;
      DO $$ BEGIN
        FOR i IN 1..200 LOOP
          EXECUTE format('CREATE TABLE bulk.t%s (a INT, b INT, c INT)', i);
          EXECUTE format('GRANT SELECT (a, b) ON bulk.t%s TO "inv_rôle"', i);
          EXECUTE format('GRANT SELECT ON bulk.t%s TO inv_analyst', i);
        END LOOP;
      END $$;`);
    const after = counting(executor);
    const inventory = await readPostgresInventory(after.executor, request);
    expect(after.count()).toBe(before.count());
    expect(after.count()).toBeLessThanOrEqual(6);
    expect(inventory.held.filter((held) => held.object.schema === "bulk")).toHaveLength(400);
  });
});
