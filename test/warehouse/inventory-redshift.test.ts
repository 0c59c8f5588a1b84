import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withoutExternalObjects } from "../../src/core/external-objects.js";
import { GrantColumns, GrantRegistry } from "../../src/core/grant-columns.js";
import { type DesiredGrant, granteeKey, type RecordedGrant, tableKey } from "../../src/core/grants.js";
import { planChanges } from "../../src/core/plan.js";
import { renderBatches } from "../../src/core/render.js";
import { desired, planInput, recorded } from "../support/catalog-builders.js";
import { inventoryFromRedshiftRows, readRedshiftInventory, type RedshiftInventoryRows } from "../../src/warehouse/inventory-redshift.js";
import { openRedshift, type RedshiftTarget } from "./redshift-target.js";

/**
 * The mapping runs on rows in the shape Redshift documents (aws-facts §6.4); the reads run in the
 * local Data API endpoint's Redshift mode, through the production Data API executor.
 */

const ROWS: RedshiftInventoryRows = {
  schemas: [{ schema_name: "sales" }, { schema_name: "hr" }],
  columns: [
    { schema_name: "sales", table_name: "orders", column_name: "id" },
    { schema_name: "sales", table_name: "orders", column_name: "email" },
    { schema_name: "hr", table_name: "people", column_name: "name" },
  ],
  grantees: [
    { kind: "group", name: "analyst" },
    { kind: "role", name: "o'hara" },
    { kind: "role", name: "sys:dba" },
  ],
  schemaPrivileges: [
    { namespace_name: "sales", privilege_type: "USAGE", identity_type: "group", identity_name: "analyst" },
    { namespace_name: "sales", privilege_type: "ALTER", identity_type: "group", identity_name: "analyst" },
  ],
  relationPrivileges: [
    { namespace_name: "sales", relation_name: "orders", privilege_type: "SELECT", identity_type: "group", identity_name: "analyst" },
    { namespace_name: "sales", relation_name: "orders", privilege_type: "DROP", identity_type: "group", identity_name: "analyst" },
    { namespace_name: "sales", relation_name: "orders", privilege_type: "SELECT", identity_type: "user", identity_name: "alice" },
  ],
  columnPrivileges: [
    { namespace_name: "hr", relation_name: "people", column_name: "name", privilege_type: "SELECT", identity_type: "role", identity_name: "o'hara" },
    { namespace_name: "hr", relation_name: "people", column_name: "dept", privilege_type: "SELECT", identity_type: "role", identity_name: "o'hara" },
    { namespace_name: "hr", relation_name: "people", column_name: "name", privilege_type: "UPDATE", identity_type: "role", identity_name: "o'hara" },
  ],
};

describe("inventoryFromRedshiftRows", () => {
  const inventory = inventoryFromRedshiftRows(ROWS);

  it("maps schemas, tables with their columns, and grantees", () => {
    expect([...inventory.schemas]).toEqual(["sales", "hr"]);
    expect([...inventory.tables.entries()].map(([key, columns]) => [key, [...columns]])).toEqual([
      [tableKey("sales", "orders"), ["id", "email"]],
      [tableKey("hr", "people"), ["name"]],
    ]);
    expect([...inventory.grantees]).toEqual(["group:analyst", "role:o'hara", "role:sys:dba"]);
    expect(inventory.grantees.has(granteeKey({ kind: "role", name: "o'hara" }))).toBe(true);
  });

  it("turns privilege rows into grants: one per grantee x table x privilege, columns sorted; users and unknown privileges left out", () => {
    expect(inventory.held).toEqual([
      { grantee: { kind: "group", name: "analyst" }, privilege: "USAGE", object: { schema: "sales", table: null, columns: null } },
      { grantee: { kind: "group", name: "analyst" }, privilege: "DROP", object: { schema: "sales", table: "orders", columns: null } },
      { grantee: { kind: "group", name: "analyst" }, privilege: "SELECT", object: { schema: "sales", table: "orders", columns: null } },
      { grantee: { kind: "role", name: "o'hara" }, privilege: "SELECT", object: { schema: "hr", table: "people", columns: ["dept", "name"] } },
      { grantee: { kind: "role", name: "o'hara" }, privilege: "UPDATE", object: { schema: "hr", table: "people", columns: ["name"] } },
    ]);
  });
  it("merges a table's column rows that come back apart (a collation could order them so) into one grant per grantee x privilege", () => {
    const row = (table: string, column: string) => ({ namespace_name: "hr", relation_name: table, column_name: column, privilege_type: "SELECT", identity_type: "group", identity_name: "g" });
    const apart = inventoryFromRedshiftRows({ ...ROWS, schemaPrivileges: [], relationPrivileges: [], columnPrivileges: [row("a", "x"), row("b", "y"), row("a", "z"), row("a", "x")] });
    expect(apart.held.map((g) => `${g.object.table}(${g.object.columns?.join(",")})`)).toEqual(["a(x,z)", "b(y)"]);
  });
});

describe("readRedshiftInventory of many schemas, in Redshift mode", () => {
  let target: RedshiftTarget;
  const schemas = ["s1", "s2", "s3", "s4", "s5"];
  beforeAll(async () => {
    target = await openRedshift();
    // Schemas of 1 to 5 tables, each table granted whole to a group and by column to a role.
    const tables = schemas.flatMap((schema, i) => Array.from({ length: i + 1 }, (_, k) => `${schema}.t${k}`));
    await target.setup([
      "CREATE GROUP analyst",
      "CREATE ROLE bi",
      ...schemas.map((schema) => `CREATE SCHEMA ${schema}`),
      ...tables.flatMap((table) => [`CREATE TABLE ${table} (id int, name varchar(10))`, `GRANT SELECT ON ${table} TO GROUP analyst`, `GRANT SELECT (id) ON ${table} TO ROLE bi`]),
    ]);
  });
  afterAll(async () => {
    await target.close();
  });
  const request = { grantees: [{ kind: "group", name: "analyst" }, { kind: "role", name: "bi" }], excludeSchemas: [] } as const;

  it("reads a few schemas at a time by a census of their rows: the same inventory, every table-scale read naming its schemas", async () => {
    const whole = await readRedshiftInventory(target.executor, request, 1_000);
    expect(whole.held.filter((g) => g.object.table !== null)).toHaveLength(2 * 15);
    await target.api.reset();
    const chunked = await readRedshiftInventory(target.executor, request, 4);
    expect(chunked).toEqual(whole);
    const reads = target.api.statements().flatMap((s) => s.sqls).filter((sql) => /FROM svv_(columns|relation_privileges|column_privileges)\b/.test(sql));
    const [census, rest] = [reads.filter((sql) => sql.includes("COUNT(*)")), reads.filter((sql) => !sql.includes("COUNT(*)"))];
    expect(census).toHaveLength(1 + 2 + 2); // columns; relation and column privileges, once for each identity type
    for (const sql of rest) expect(sql).toMatch(/(table_schema|namespace_name) (= '|IN \()/);
    // Relation privileges, 4 rows a page: s1+s2 (3 rows) share a chunk; s3 (3); s4 (4, then an empty page); s5 (5: two pages).
    const relation = rest.filter((sql) => sql.includes("svv_relation_privileges"));
    expect(relation.map((sql) => /namespace_name (?:= '(\w+)'|IN \(([^)]*)\))/.exec(sql)!.slice(1).join(""))).toEqual(["'s1', 's2'", "s3", "s4", "s4", "s5", "s5"]);
    expect(target.api.metrics().largestResultRows).toBeLessThanOrEqual(4);
  });
});

describe("readRedshiftInventory in Redshift mode", () => {
  let target: RedshiftTarget;
  beforeAll(async () => {
    target = await openRedshift();
    await target.setup([
      "CREATE SCHEMA sales",
      "CREATE SCHEMA lfsync",
      "CREATE TABLE sales.orders (id int, email varchar(64), amount int)",
      "CREATE TABLE sales.customers (id int, name varchar(64))",
      "CREATE TABLE lfsync.runs (id int)",
      "CREATE VIEW sales.recent AS SELECT id FROM sales.orders WITH NO SCHEMA BINDING",
      "CREATE EXTERNAL SCHEMA lake FROM DATA CATALOG DATABASE 'lakedb' IAM_ROLE 'arn:aws:iam::123456789012:role/spectrum'",
      "CREATE EXTERNAL TABLE lake.events (id int, kind varchar(20)) STORED AS PARQUET LOCATION 's3://bucket/events/'",
      "CREATE GROUP analyst",
      "CREATE ROLE bi",
      "CREATE GROUP other",
      "GRANT USAGE ON SCHEMA sales TO GROUP analyst",
      "GRANT SELECT, DROP ON sales.orders TO GROUP analyst",
      "GRANT SELECT (id, name) ON sales.customers TO ROLE bi",
      "GRANT SELECT ON sales.customers TO GROUP other",
    ]);
  });
  afterAll(async () => {
    await target.close();
  });

  const request = {
    grantees: [
      { kind: "group", name: "analyst" },
      { kind: "role", name: "bi" },
    ],
    excludeSchemas: ["lfsync"],
  } as const;

  it("reads groups (pg_group) and roles (svv_roles) together, their grants, external schemas and late-binding views", async () => {
    const inventory = await readRedshiftInventory(target.executor, request);
    expect([...inventory.schemas].sort()).toEqual(["lake", "public", "sales"]);
    expect([...inventory.tables.keys()].sort()).toEqual([tableKey("sales", "customers"), tableKey("sales", "orders"), tableKey("sales", "recent")]);
    expect([...inventory.grantees].sort()).toEqual(["group:analyst", "group:other", "role:bi"]);
    expect([...(inventory.externalSchemas ?? [])]).toEqual(["lake"]);
    expect([...(inventory.lateBindingViews ?? [])]).toEqual([tableKey("sales", "recent")]);
    expect(inventory.held).toEqual([
      { grantee: { kind: "group", name: "analyst" }, privilege: "USAGE", object: { schema: "sales", table: null, columns: null } },
      { grantee: { kind: "group", name: "analyst" }, privilege: "DROP", object: { schema: "sales", table: "orders", columns: null } },
      { grantee: { kind: "group", name: "analyst" }, privilege: "SELECT", object: { schema: "sales", table: "orders", columns: null } },
      { grantee: { kind: "role", name: "bi" }, privilege: "SELECT", object: { schema: "sales", table: "customers", columns: ["id", "name"] } },
    ]);
  });

  it("reads columns and privileges in pages: the same inventory, no result larger than a page", async () => {
    const whole = await readRedshiftInventory(target.executor, request);
    await target.api.reset();
    const paged = await readRedshiftInventory(target.executor, request, 2);
    expect(paged).toEqual(whole);
    expect(target.api.metrics().largestResultRows).toBeLessThanOrEqual(2);
  });

  it("cuts long IN-lists of grantees so that no statement reaches 100 KB", async () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ kind: "group" as const, name: `grantee_with_a_long_name_number_${String(i).padStart(5, "0")}` }));
    const inventory = await readRedshiftInventory(target.executor, { grantees: [...many, ...request.grantees], excludeSchemas: ["lfsync"] });
    expect(inventory.held).toHaveLength(4);
    const largest = Math.max(...target.api.statements().flatMap((s) => s.sqls.map((sql) => Buffer.byteLength(sql))));
    expect(largest).toBeLessThan(100 * 1024);
  });

  it("reads the same with describe_field_name_in_uppercase on (result names lower-cased)", async () => {
    const upper = await openRedshift({ describeFieldNameInUppercase: true });
    try {
      await upper.setup(["CREATE SCHEMA sales", "CREATE TABLE sales.orders (id int)", "CREATE ROLE bi", "GRANT SELECT ON sales.orders TO ROLE bi"]);
      const inventory = await readRedshiftInventory(upper.executor, { grantees: [{ kind: "role", name: "bi" }], excludeSchemas: [] });
      expect([...inventory.tables.keys()]).toEqual([tableKey("sales", "orders")]);
      expect(inventory.held).toEqual([{ grantee: { kind: "role", name: "bi" }, privilege: "SELECT", object: { schema: "sales", table: "orders", columns: null } }]);
    } finally {
      await upper.close();
    }
  });
});

describe("groups and roles in one plan, end to end in Redshift mode", () => {
  let target: RedshiftTarget;
  beforeAll(async () => {
    target = await openRedshift();
    await target.setup([
      "CREATE SCHEMA sales",
      "CREATE TABLE sales.orders (id int, email varchar(64))",
      "CREATE TABLE sales.customers (id int, name varchar(64))",
      "CREATE VIEW sales.recent AS SELECT id, email FROM sales.orders WITH NO SCHEMA BINDING",
      "CREATE EXTERNAL SCHEMA lake FROM DATA CATALOG DATABASE 'lakedb' IAM_ROLE 'arn:aws:iam::123456789012:role/spectrum'",
      "CREATE EXTERNAL TABLE lake.events (id int) STORED AS PARQUET LOCATION 's3://bucket/events/'",
      "CREATE GROUP analyst",
      "CREATE ROLE bi",
      "CREATE GROUP mover",
      "CREATE ROLE mover",
      "GRANT USAGE ON SCHEMA sales TO GROUP mover",
      "GRANT SELECT ON sales.orders TO GROUP mover",
    ]);
  });
  afterAll(async () => {
    await target.close();
  });

  const bi = { kind: "role", name: "bi" } as const;
  const moverRole = { kind: "role", name: "mover" } as const;

  /** Reads the inventory, leaves out what Redshift cannot take, plans and applies every batch. */
  async function apply(wanted: readonly DesiredGrant[], before: readonly RecordedGrant[]) {
    const grantees = [...new Map([...wanted, ...before].map((g) => [granteeKey(g.grantee), g.grantee])).values()];
    const inventory = await readRedshiftInventory(target.executor, { grantees, excludeSchemas: [] });
    const registry = new GrantRegistry();
    const doable = withoutExternalObjects(GrantColumns.from(wanted, registry), registry, inventory);
    const plan = planChanges(planInput({ desired: doable.desired, registry, recorded: before, inventory, diagnostics: doable.diagnostics }));
    for (const batch of renderBatches(plan, { dialect: "redshift", stateStatements: () => [] })) await target.executor.transaction(batch.statements);
    return plan;
  }

  async function held() {
    const grantees = [{ kind: "group", name: "analyst" }, bi, { kind: "group", name: "mover" }, moverRole] as const;
    return (await readRedshiftInventory(target.executor, { grantees, excludeSchemas: [] })).held.map(
      (g) => `${g.grantee.kind} ${g.grantee.name} ${g.privilege} ${g.object.schema}${g.object.table === null ? "" : `.${g.object.table}`}${g.object.columns === null ? "" : `(${g.object.columns.join(",")})`}`,
    );
  }

  it("grants to GROUP and ROLE grantees in one plan, moves a principal from a group to a role, and leaves external objects out", async () => {
    const wanted = [
      desired("analyst", "USAGE", "sales"),
      desired("analyst", "SELECT", "sales.orders"),
      desired(bi, "USAGE", "sales"),
      desired(bi, "SELECT", "sales.customers(id,name)"),
      desired(bi, "DROP", "sales.customers"),
      desired(moverRole, "USAGE", "sales"),
      desired(moverRole, "SELECT", "sales.orders"),
      desired(bi, "USAGE", "lake"),
      desired(bi, "SELECT", "lake.events"),
      desired(bi, "SELECT", "sales.recent(id)"),
    ];
    const before = [recorded("mover", "USAGE", "sales"), recorded("mover", "SELECT", "sales.orders")];
    const plan = await apply(wanted, before);
    expect(plan.warnings).toEqual(
      expect.arrayContaining([
        "external schema lake: 2 grants not applied; Lake Formation governs Spectrum access itself",
        "late-binding view sales.recent: 1 column-level grant not applied; Redshift has no column grants on late-binding views",
      ]),
    );
    expect((await held()).sort()).toEqual([
      "group analyst SELECT sales.orders",
      "group analyst USAGE sales",
      "role bi DROP sales.customers",
      "role bi SELECT sales.customers(id,name)",
      "role bi USAGE sales",
      "role mover SELECT sales.orders",
      "role mover USAGE sales",
    ]);
  });
});
