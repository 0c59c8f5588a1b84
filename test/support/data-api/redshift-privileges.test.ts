import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, type Harness } from "./harness.js";
import { startLocalDataApi, type LocalDataApi } from "./server.js";

/** GRANT/REVOKE and the SVV privilege views in Redshift mode (aws-facts §6.1-§6.4). */
let api: LocalDataApi;
let db: Harness;
const AS_CAROL = { Database: "dev", ClusterIdentifier: "c1", DbUser: "carol" };
const RELATION_PRIVILEGES =
  "SELECT namespace_name, relation_name, privilege_type, identity_type, identity_name FROM svv_relation_privileges WHERE namespace_name = 'shop' ORDER BY 1, 2, 3, 4, 5";

beforeAll(async () => {
  api = await startLocalDataApi({ mode: "redshift" });
  db = harness(api);
  for (const sql of [
    "CREATE SCHEMA shop",
    "CREATE TABLE shop.items (id int, name varchar(20), price int)",
    "CREATE TABLE shop.stock (id int)",
    "CREATE GROUP buyers",
    "CREATE GROUP auditors",
    "CREATE ROLE pricing",
    "CREATE USER carol PASSWORD DISABLE IN GROUP buyers",
    "CREATE EXTERNAL SCHEMA lake FROM DATA CATALOG DATABASE 'lakedb' IAM_ROLE 'arn:aws:iam::123456789012:role/spectrum'",
    "CREATE EXTERNAL TABLE lake.events (id int, kind string) STORED AS PARQUET LOCATION 's3://bucket/events/'",
    "CREATE VIEW shop.late AS SELECT id FROM shop.items WITH NO SCHEMA BINDING",
  ]) {
    expect(await db.error(sql), sql).toBeNull();
  }
});
afterAll(async () => {
  db.close();
  await api.stop();
});

describe("Redshift mode: table and column privileges", () => {
  it("accepts DROP and ALTER, which PostgreSQL lacks, and shows DROP in svv_relation_privileges", async () => {
    expect(await db.error("GRANT SELECT, DROP ON TABLE shop.stock TO GROUP buyers")).toBeNull();
    expect(await db.rows(RELATION_PRIVILEGES)).toEqual([
      ["shop", "stock", "DROP", "group", "buyers"],
      ["shop", "stock", "SELECT", "group", "buyers"],
    ]);
    expect(await db.error("REVOKE DROP ON shop.stock FROM GROUP buyers")).toBeNull();
    expect(await db.rows(RELATION_PRIVILEGES)).toEqual([["shop", "stock", "SELECT", "group", "buyers"]]);
    expect(await db.error("REVOKE SELECT ON shop.stock FROM GROUP buyers")).toBeNull();
  });

  it("refuses TRUNCATE as a table privilege and WITH GRANT OPTION for a group", async () => {
    expect(await db.error("GRANT TRUNCATE ON shop.stock TO ROLE pricing")).toMatch(/Invalid privilege type TRUNCATE/);
    expect(await db.error("GRANT SELECT ON shop.stock TO GROUP buyers WITH GRANT OPTION")).toMatch(/WITH GRANT OPTION/);
  });

  it("grants SELECT and UPDATE on columns only, and shows them in svv_column_privileges", async () => {
    expect(await db.error("GRANT INSERT (price) ON shop.items TO ROLE pricing")).toMatch(/only SELECT and UPDATE/);
    expect(await db.error('GRANT SELECT ("ID", name) ON shop.items TO ROLE pricing')).toBeNull();
    expect(await db.rows("SELECT column_name, privilege_type, identity_type, identity_name FROM svv_column_privileges WHERE relation_name = 'items' ORDER BY 1")).toEqual([
      ["id", "SELECT", "role", "pricing"],
      ["name", "SELECT", "role", "pricing"],
    ]);
  });

  it("never holds one privilege at both the table and the column level", async () => {
    expect(await db.error("GRANT SELECT ON shop.items TO ROLE pricing")).toMatch(/already held at the column level/);
    expect(await db.error("REVOKE SELECT ON shop.items FROM ROLE pricing")).toBeNull();
    expect(await db.rows("SELECT count(*) FROM svv_column_privileges WHERE relation_name = 'items'")).toEqual([[0]]);
    expect(await db.error("GRANT SELECT ON shop.items TO GROUP auditors")).toBeNull();
    expect(await db.error("REVOKE SELECT (price) ON shop.items FROM GROUP auditors")).toMatch(/held at the table level/);
    expect(await db.error("REVOKE SELECT ON shop.items FROM GROUP auditors")).toBeNull();
  });

  it("lists schema privileges in svv_schema_privileges", async () => {
    expect(await db.error("GRANT USAGE ON SCHEMA shop TO GROUP buyers, ROLE pricing")).toBeNull();
    expect(await db.rows("SELECT privilege_type, identity_type, identity_name FROM svv_schema_privileges WHERE namespace_name = 'shop' ORDER BY 2, 3")).toEqual([
      ["USAGE", "group", "buyers"],
      ["USAGE", "role", "pricing"],
    ]);
  });
});

describe("Redshift mode: external schemas and late-binding views", () => {
  it("lists the external schema and its table, and the late-binding view, in svv_columns", async () => {
    expect(await db.rows("SELECT schemaname, databasename FROM svv_external_schemas")).toEqual([["lake", "lakedb"]]);
    expect(await db.rows("SELECT table_schema, table_name, column_name FROM svv_columns WHERE table_name IN ('events', 'late') ORDER BY 1, 2, 3")).toEqual([
      ["lake", "events", "id"],
      ["lake", "events", "kind"],
      ["shop", "late", "id"],
    ]);
  });

  it("fails GRANT on an external schema inside a transaction block, and allows it alone", async () => {
    expect(await db.batchError(["GRANT SELECT ON shop.stock TO ROLE pricing", "GRANT USAGE ON SCHEMA lake TO ROLE pricing"])).toMatch(
      /cannot run inside a transaction block/,
    );
    expect(await db.rows("SELECT count(*) FROM svv_relation_privileges WHERE relation_name = 'stock'")).toEqual([[0]]);
    expect(await db.batchError(["GRANT SELECT ON lake.events TO ROLE pricing"])).toMatch(/cannot run inside a transaction block/);
    expect(await db.error("GRANT USAGE ON SCHEMA lake TO ROLE pricing")).toBeNull();
  });

  it("lists the late-binding view's columns in pg_get_late_binding_view_cols()", async () => {
    expect(await db.rows("SELECT view_schema, view_name, col_name, col_num FROM pg_get_late_binding_view_cols() cols(view_schema name, view_name name, col_name name, col_type varchar, col_num int)")).toEqual([["shop", "late", "id", 1]]);
  });

  it("refuses column grants on a late-binding view", async () => {
    expect(await db.error("GRANT SELECT (id) ON shop.late TO ROLE pricing")).toMatch(/late-binding view/);
  });
});

describe("Redshift mode: what a user who is not a superuser sees", () => {
  it("shows grants to PUBLIC to everyone, as identity_type public, at the table, column and schema level", async () => {
    for (const sql of ["CREATE SCHEMA open", "CREATE TABLE open.board (id int, note varchar(10))", "GRANT SELECT ON open.board TO PUBLIC", "GRANT UPDATE (note) ON open.board TO PUBLIC", "GRANT USAGE ON SCHEMA open TO PUBLIC"]) {
      expect(await db.error(sql), sql).toBeNull();
    }
    const views = [
      "SELECT relation_name, privilege_type, identity_type, identity_name, identity_id FROM svv_relation_privileges WHERE namespace_name = 'open'",
      "SELECT column_name, privilege_type, identity_type, identity_name, identity_id FROM svv_column_privileges WHERE namespace_name = 'open'",
      "SELECT namespace_name, privilege_type, identity_type, identity_name, identity_id FROM svv_schema_privileges WHERE namespace_name = 'open'",
    ];
    const expected = [[["board", "SELECT", "public", "public", 0]], [["note", "UPDATE", "public", "public", 0]], [["open", "USAGE", "public", "public", 0]]];
    for (const [i, sql] of views.entries()) {
      expect(await db.rows(sql)).toEqual(expected[i]);
      expect(await db.rows(sql, AS_CAROL)).toEqual(expected[i]);
    }
  });


  it("shows only the identities the user is or belongs to, until it holds ACCESS SYSTEM TABLE", async () => {
    expect(await db.error("GRANT SELECT ON shop.stock TO GROUP buyers")).toBeNull();
    expect(await db.error("GRANT SELECT ON shop.stock TO ROLE pricing")).toBeNull();
    const seen = "SELECT identity_name FROM svv_relation_privileges WHERE relation_name = 'stock' ORDER BY 1";
    expect(await db.rows(seen)).toEqual([["buyers"], ["pricing"]]);
    expect(await db.rows(seen, AS_CAROL)).toEqual([["buyers"]]);
    expect(await db.rows("SELECT count(*) FROM svl_user_info", AS_CAROL)).toEqual([[0]]);
    expect(await db.error("GRANT ACCESS SYSTEM TABLE TO carol")).toBeNull();
    expect(await db.rows(seen, AS_CAROL)).toEqual([["buyers"], ["pricing"]]);
    expect(await db.rows("SELECT usesuper FROM pg_user WHERE usename = current_user", AS_CAROL)).toEqual([[false]]);
  });
});
