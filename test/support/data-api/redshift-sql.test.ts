import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, type Harness } from "./harness.js";
import { startLocalDataApi, type LocalDataApi } from "./server.js";

/** The Redshift mode's SQL rules, each against the Redshift page it cites (aws-facts §6, §7). */
let api: LocalDataApi;
let db: Harness;
beforeAll(async () => {
  api = await startLocalDataApi({ mode: "redshift" });
  db = harness(api);
  for (const sql of [
    "CREATE SCHEMA sales",
    'CREATE TABLE "Sales"."Orders" (id int, note text, "Amount" numeric(8,2))',
    "CREATE GROUP analysts",
    "CREATE ROLE engineers",
    "CREATE USER alice PASSWORD DISABLE IN GROUP analysts",
    "CREATE USER bob PASSWORD DISABLE",
    "GRANT ROLE engineers TO bob",
  ]) {
    expect(await db.error(sql), sql).toBeNull();
  }
});
afterAll(async () => {
  db.close();
  await api.stop();
});

describe("Redshift mode: identifiers and literals", () => {
  it("folds quoted ASCII identifiers to lower case", async () => {
    expect(await db.rows("SELECT column_name, data_type FROM svv_columns WHERE table_schema = 'sales' AND table_name = 'orders' ORDER BY ordinal_position")).toEqual([
      ["id", "integer"],
      ["note", "character varying(256)"],
      ["amount", "numeric(8,2)"],
    ]);
    expect(await db.rows('SELECT "ID" FROM "SALES".orders')).toEqual([]);
  });

  it("refuses a delimited identifier holding a character that is not printable (r_names)", async () => {
    expect(await db.error('CREATE TABLE sales."tab\tname" (id int)')).toMatch(/printable/);
    expect(await db.error('SELECT 1 AS "new\nline"')).toMatch(/printable/);
    expect(await db.error('CREATE TABLE sales."ünïcødé 表 ok" (id int)')).toBeNull();
  });

  it("never truncates a long name as PostgreSQL would: over 127 bytes is refused (r_names), 64 to 127 bytes is beyond this endpoint", async () => {
    expect(await db.error(`CREATE TABLE sales."${"a".repeat(63)}" (id int)`)).toBeNull();
    expect(await db.error(`CREATE TABLE sales."${"b".repeat(64)}" (id int)`)).toMatch(/this local endpoint cannot/);
    expect(await db.error(`CREATE TABLE sales.${"c".repeat(100)} (id int)`)).toMatch(/this local endpoint cannot/);
    expect(await db.error(`CREATE GROUP "${"é".repeat(64)}"`)).toMatch(/128 bytes: identifiers are 1 to 127 bytes long/);
  });

  it("reads a backslash in '...' as an escape, as Redshift does", async () => {
    expect(await db.rows("SELECT 'a\\\\b' AS v, 'it\\'s' AS w, 'x''y' AS z")).toEqual([["a\\b", "it's", "x'y"]]);
  });

  it.each([
    ["SELECT E'a'", /E'' literals/],
    ["CREATE TABLE j (doc jsonb)", /type "jsonb" does not exist/],
    ["SELECT ARRAY[1, 2]", /arrays are not supported/],
    ["CREATE TABLE s1 (id serial)", /type "serial" does not exist/],
    ["INSERT INTO sales.orders (id) VALUES (1) ON CONFLICT DO NOTHING", /CONFLICT/],
    ["INSERT INTO sales.orders (id) VALUES (1) RETURNING id", /RETURNING/],
    ["CREATE INDEX i ON sales.orders (id)", /CREATE INDEX is not supported/],
    ["SELECT string_agg(note, ',') FROM sales.orders", /function string_agg does not exist/],
    ["SELECT to_regclass('sales.orders')", /function to_regclass does not exist/],
    ["SELECT DISTINCT ON (id) id FROM sales.orders", /syntax error/],
  ])("rejects PostgreSQL-only syntax: %s", async (sql, message) => {
    expect(await db.error(sql)).toMatch(message);
  });
});

describe("Redshift mode: users, groups and roles", () => {
  it("keeps groups and roles in their own namespaces; naming the wrong kind fails", async () => {
    expect(await db.error("GRANT SELECT ON sales.orders TO GROUP analysts")).toBeNull();
    expect(await db.error("GRANT SELECT ON sales.orders TO ROLE engineers")).toBeNull();
    expect(await db.error("GRANT SELECT ON sales.orders TO ROLE analysts")).toMatch(/role "analysts" does not exist/);
    expect(await db.error("GRANT SELECT ON sales.orders TO GROUP engineers")).toMatch(/group "engineers" does not exist/);
    expect(await db.error("GRANT SELECT ON sales.orders TO analysts")).toMatch(/user "analysts" does not exist/);
    expect(await db.error("CREATE ROLE analysts")).toBeNull();
    expect(await db.error("DROP ROLE analysts")).toBeNull();
  });

  it("lists groups only in pg_group, roles in svv_roles", async () => {
    expect(await db.rows("SELECT groname FROM pg_group ORDER BY 1")).toEqual([["analysts"]]);
    expect(await db.rows("SELECT role_name FROM svv_roles ORDER BY 1")).toEqual([["engineers"]]);
    expect(await db.error("CREATE GROUP __reserved")).toMatch(/reserved/);
  });

  it("changes group members with ALTER GROUP ... ADD USER / DROP USER", async () => {
    const members = async () => db.rows("SELECT u.usename FROM pg_group g, pg_user u WHERE g.groname = 'analysts' AND u.usesysid = ANY (g.grolist) ORDER BY 1");
    expect(await db.error("ALTER GROUP analysts ADD USER bob")).toBeNull();
    expect(await members()).toEqual([["alice"], ["bob"]]);
    expect(await db.error("ALTER GROUP analysts DROP USER bob")).toBeNull();
    expect(await members()).toEqual([["alice"]]);
  });
});
