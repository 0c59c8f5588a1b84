import { BatchExecuteStatementCommand } from "@aws-sdk/client-redshift-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, IAM_TARGET, type Harness } from "./harness.js";
import { startLocalDataApi, type LocalDataApi } from "./server.js";

/**
 * The GRANT rules read what a batch names once (redshift/rule-facts.ts). Inside the batch each rule
 * must still see what the statements before it did, exactly as when it asked PostgreSQL per statement.
 */
let api: LocalDataApi;
let db: Harness;
const COLUMN_GRANTS = "SELECT column_name, identity_name FROM svv_column_privileges WHERE relation_name = 'orders' ORDER BY 1, 2";
const TABLE_GRANTS = "SELECT privilege_type, identity_name FROM svv_relation_privileges WHERE relation_name = 'orders' ORDER BY 1, 2";

beforeAll(async () => {
  api = await startLocalDataApi({ mode: "redshift" });
  db = harness(api);
  for (const sql of ["CREATE SCHEMA crm", "CREATE TABLE crm.orders (id int, total int)", "CREATE GROUP sales", "CREATE ROLE billing"]) {
    expect(await db.error(sql), sql).toBeNull();
  }
});
afterAll(async () => {
  db.close();
  await api.stop();
});

describe("Redshift mode: the rules inside one batch", () => {
  it("refuses a table-level GRANT after a column-level GRANT of the same privilege earlier in the batch, and rolls all back", async () => {
    expect(await db.batchError(["GRANT SELECT (id) ON crm.orders TO ROLE billing", "GRANT SELECT ON crm.orders TO ROLE billing"])).toMatch(
      /already held at the column level/,
    );
    expect(await db.rows(COLUMN_GRANTS)).toEqual([]);
  });

  it("refuses a column-level REVOKE after a table-level GRANT earlier in the batch", async () => {
    expect(await db.batchError(["GRANT SELECT ON crm.orders TO GROUP sales", "REVOKE SELECT (id) ON crm.orders FROM GROUP sales"])).toMatch(
      /held at the table level/,
    );
    expect(await db.rows(TABLE_GRANTS)).toEqual([]);
  });

  it("sees a table-level REVOKE earlier in the batch: the column GRANT after it takes effect", async () => {
    expect(await db.error("GRANT SELECT ON crm.orders TO GROUP sales")).toBeNull();
    expect(
      await db.batchError([
        "GRANT SELECT (total) ON crm.orders TO GROUP sales",
        "REVOKE SELECT ON crm.orders FROM GROUP sales",
        "GRANT SELECT (id) ON crm.orders TO GROUP sales",
      ]),
    ).toBeNull();
    expect(await db.rows(TABLE_GRANTS)).toEqual([]);
    expect(await db.rows(COLUMN_GRANTS)).toEqual([["id", "sales"]]);
    expect(await db.error("REVOKE SELECT ON crm.orders FROM GROUP sales")).toBeNull();
  });

  it("sees a column-level REVOKE earlier in the batch: the table GRANT after it is allowed once no column is left", async () => {
    expect(await db.error("GRANT SELECT (id, total) ON crm.orders TO ROLE billing")).toBeNull();
    expect(await db.batchError(["REVOKE SELECT (id) ON crm.orders FROM ROLE billing", "GRANT SELECT ON crm.orders TO ROLE billing"])).toMatch(
      /already held at the column level/,
    );
    expect(await db.batchError(["REVOKE SELECT (id, total) ON crm.orders FROM ROLE billing", "GRANT SELECT ON crm.orders TO ROLE billing"])).toBeNull();
    expect(await db.rows(TABLE_GRANTS)).toEqual([["SELECT", "billing"]]);
    expect(await db.error("REVOKE SELECT ON crm.orders FROM ROLE billing")).toBeNull();
  });

  it("sees identities and external schemas created earlier in the batch, and the kind of each grantee", async () => {
    expect(await db.batchError(["CREATE GROUP late_comers", "GRANT SELECT ON crm.orders TO GROUP late_comers"])).toBeNull();
    expect(await db.batchError(["GRANT USAGE ON SCHEMA crm TO GROUP sales", "GRANT SELECT ON crm.orders TO ROLE sales"])).toMatch(/role "sales" does not exist/);
    expect(await db.batchError(["GRANT SELECT ON crm.orders TO GROUP nobody"])).toMatch(/group "nobody" does not exist/);
    expect(
      await db.batchError(["CREATE EXTERNAL SCHEMA spectrum FROM DATA CATALOG DATABASE 'lake' IAM_ROLE 'arn:aws:iam::123456789012:role/s'", "GRANT USAGE ON SCHEMA spectrum TO GROUP sales"]),
    ).toMatch(/cannot run inside a transaction block/);
  });

  it("fails the statement that names a missing table, not the first GRANT of the batch", async () => {
    const Sqls = ["GRANT SELECT ON crm.orders TO GROUP sales", "GRANT SELECT ON crm.missing TO GROUP sales"];
    const { Id } = await db.client.send(new BatchExecuteStatementCommand({ ...IAM_TARGET, Sqls }));
    const done = await db.finished(Id!);
    expect(done.SubStatements?.map((s) => s.Status)).toEqual(["FINISHED", "FAILED"]);
    expect(done.Error).toMatch(/"crm.missing" does not exist/);
  });

  it("checks a batch of 30 GRANTs with a number of PostgreSQL queries that does not grow with the statements", async () => {
    for (let i = 0; i < 30; i++) expect(await db.error(`CREATE TABLE crm.t${i} (id int)`)).toBeNull();
    const batch = (n: number): string[] => Array.from({ length: n }, (_, i) => `GRANT SELECT ON crm.t${i} TO GROUP sales, ROLE billing`);
    const cost = async (sqls: string[]): Promise<number> => {
      await api.reset();
      expect(await db.batchError(sqls)).toBeNull();
      return api.metrics().backendQueries;
    };
    const small = await cost(batch(3));
    const large = await cost(batch(30));
    // Each GRANT runs itself once; the rule checks are one read for the whole batch.
    expect(large - small).toBe(27);
  });
});
