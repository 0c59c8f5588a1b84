import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSyncError } from "../../src/errors.js";
import type { Row, SqlExecutor } from "../../src/warehouse/executor.js";
import { createPgliteExecutor, createPostgresExecutor, type PostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { checkTargetPermissions, permissionProblem, permissionQueries } from "../../src/warehouse/preflight.js";
import { createTestDatabase, startPostgres, type RunningPostgres } from "../support/postgres.js";
import { failureOf } from "../support/failure.js";
import { openRedshift, SYNC_OWNS_SALES_ORDERS, SYNC_SECRET, type RedshiftTarget } from "./redshift-target.js";


/** Roles are per cluster: created once, whichever database comes first. */
const ROLES =
  "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'syncer') THEN" +
  " CREATE ROLE syncer LOGIN; CREATE ROLE loader; END IF; END $$;";

const OBJECTS = `
  CREATE SCHEMA sales;
  CREATE TABLE sales.orders (id int, email text);
  CREATE VIEW sales.recent AS SELECT id FROM sales.orders;
  CREATE SCHEMA hr;
  CREATE TABLE hr.t1 (id int); CREATE TABLE hr.t2 (id int); CREATE TABLE hr.t3 (id int);
  CREATE TABLE hr.t4 (id int); CREATE TABLE hr.t5 (id int); CREATE TABLE hr.t6 (id int);
`;

/** admin: a superuser session on a fresh database; asSyncer(): the same database as the plain role `syncer`. */
interface Setup {
  readonly admin: PostgresExecutor;
  asSyncer(): Promise<SqlExecutor>;
  close(): Promise<void>;
}

let server: Promise<RunningPostgres> | undefined;
afterAll(async () => {
  if (server !== undefined) await (await server).stop();
});

const setups = [
  {
    name: "PGlite",
    async open(): Promise<Setup> {
      const admin = await createPgliteExecutor({});
      await admin.execScript(ROLES + OBJECTS);
      return {
        admin,
        // PGlite has one session: SET ROLE turns it into syncer until RESET ROLE.
        async asSyncer() {
          await admin.execScript("SET ROLE syncer");
          return { ...admin, close: () => admin.execScript("RESET ROLE") };
        },
        close: () => admin.close(),
      };
    },
  },
  {
    name: "PostgreSQL server",
    async open(): Promise<Setup> {
      server ??= startPostgres();
      const url = await createTestDatabase((await server).url);
      const admin = createPostgresExecutor(url);
      await admin.execScript(ROLES + OBJECTS);
      const syncerUrl = new URL(url);
      syncerUrl.username = "syncer";
      return { admin, asSyncer: async () => createPostgresExecutor(syncerUrl.toString()), close: () => admin.close() };
    },
  },
];

describe.each(setups)("checkTargetPermissions on $name (postgres dialect)", (setup) => {
  it("passes for a superuser", async () => {
    const s = await setup.open();
    try {
      await expect(checkTargetPermissions(s.admin)).resolves.toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it("names what a plain role that owns nothing is missing: counts plus the first few", async () => {
    const s = await setup.open();
    try {
      const syncer = await s.asSyncer();
      const error = await failureOf(checkTargetPermissions(syncer, { schemas: ["sales", "hr"] }));
      await syncer.close();
      expect(isSyncError(error) && error.code).toBe("TARGET_PERMISSION");
      expect(error.message).toContain("syncer is not a superuser");
      expect(error.message).toContain("2 schemas it does not own: hr (owner postgres), sales (owner postgres)");
      expect(error.message).toContain("8 tables it does not own: hr.t1 (owner postgres), hr.t2");
      expect(error.message).toContain("and 3 more");
      expect(error.message).toContain("ALTER ROLE syncer SUPERUSER");
    } finally {
      await s.close();
    }
  });

  it("passes once the role owns the schema and its tables, or belongs to the owning role", async () => {
    const s = await setup.open();
    try {
      await s.admin.execScript(
        "ALTER SCHEMA sales OWNER TO syncer; ALTER TABLE sales.orders OWNER TO syncer;" +
          " ALTER SCHEMA hr OWNER TO loader; ALTER TABLE hr.t1 OWNER TO loader;",
      );
      const before = await s.asSyncer();
      await expect(checkTargetPermissions(before, { schemas: ["sales"] })).rejects.toThrow(/1 table it does not own: sales\.recent/);
      await before.close();
      await s.admin.execScript("ALTER VIEW sales.recent OWNER TO syncer; GRANT loader TO syncer");
      const after = await s.asSyncer();
      await expect(checkTargetPermissions(after, { schemas: ["sales"] })).resolves.toBeUndefined();
      await expect(checkTargetPermissions(after, { schemas: ["hr"] })).rejects.toThrow(/5 tables it does not own: hr\.t2/);
      await expect(checkTargetPermissions(after, { excludeSchemas: ["public", "hr"] })).resolves.toBeUndefined();
      await after.close();
    } finally {
      await s.close();
    }
  });
});

/** Redshift's catalog views cannot run here: the SQL text and the row mapping are checked with recorded rows. */
function recorded(answers: { user: Row[]; notOwned: Row[] }): SqlExecutor & { seen: string[] } {
  const seen: string[] = [];
  return {
    dialect: "redshift",
    seen,
    async query(sql) {
      seen.push(sql);
      if (sql.includes("FROM svv_system_privileges")) return [{ identity_name: "sync" }];
      return sql.includes("FROM pg_user WHERE usename = current_user") ? answers.user : answers.notOwned;
    },
    async transaction() {
      throw new Error("not used");
    },
    async close() {},
  };
}

describe("checkTargetPermissions (redshift dialect)", () => {
  it("asks pg_user for usesuper, and stops there for a superuser", async () => {
    const executor = recorded({ user: [{ user_name: "admin", is_superuser: true }], notOwned: [] });
    await checkTargetPermissions(executor);
    expect(executor.seen).toEqual(["SELECT usename AS user_name, usesuper AS is_superuser FROM pg_user WHERE usename = current_user"]);
  });

  it("reads ownership from pg_namespace, pg_tables and pg_views within the scope", () => {
    const sql = permissionQueries("redshift", { schemas: ["sales", "o'brien"], excludeSchemas: ["lfsync"] }).notOwned.join("\n");
    expect(sql).toContain("FROM pg_tables WHERE");
    expect(sql).toContain("tableowner <> current_user");
    expect(sql).toContain("FROM pg_views WHERE");
    expect(sql).toContain("viewowner <> current_user");
    expect(sql).toContain("schemaname IN ('sales', 'o''brien')");
    expect(sql).toContain("nspname NOT IN ('lfsync')");
  });

  it("says exactly what a non-superuser is missing, including ACCESS SYSTEM TABLE", async () => {
    const executor = recorded({
      user: [{ user_name: "sync", is_superuser: false }],
      notOwned: [
        { kind: "schema", schema_name: "sales", table_name: null, owner: "etl" },
        { kind: "table", schema_name: "sales", table_name: "orders", owner: "etl" },
      ],
    });
    const error = await failureOf(checkTargetPermissions(executor));
    expect(isSyncError(error) && error.code).toBe("TARGET_PERMISSION");
    expect(error.message).toBe(
      "sync is not a superuser and cannot grant on 1 schema it does not own: sales (owner etl); " +
        "1 table it does not own: sales.orders (owner etl). Column-level grants need the table owner or a superuser. " +
        "Fix: make it a superuser (ALTER USER sync CREATEUSER), or transfer ownership (ALTER TABLE ... OWNER TO sync) " +
        "and also grant it ACCESS SYSTEM TABLE so the SVV_* privilege views show every group and role.",
    );
  });

  it("accepts a non-superuser that owns everything in scope", () => {
    expect(permissionProblem("redshift", [{ user_name: "sync", is_superuser: false }], [])).toBeNull();
    expect(permissionProblem("redshift", [{ user_name: "sync", is_superuser: "t" }], [{ kind: "table" }])).toBeNull();
  });
});

describe("checkTargetPermissions in Redshift mode: who can see every identity's privileges", () => {
  let target: RedshiftTarget;
  let sync: SqlExecutor;
  beforeAll(async () => {
    target = await openRedshift();
    await target.setup([
      ...SYNC_OWNS_SALES_ORDERS,
      "GRANT SELECT ON sales.orders TO GROUP analyst",
    ]);
    sync = target.executorAs(SYNC_SECRET);
  });
  afterAll(async () => {
    await sync.close();
    await target.close();
  });

  it("refuses an owner that is not a superuser and lacks ACCESS SYSTEM TABLE: it would see no grant of analyst", async () => {
    // What the inventory would read as sync: nothing, so every revoke would be skipped.
    expect(await sync.query("SELECT identity_name FROM svv_relation_privileges WHERE namespace_name = 'sales'")).toEqual([]);
    const error = await failureOf(checkTargetPermissions(sync, { schemas: ["sales"] }));
    expect(isSyncError(error) && error.code).toBe("TARGET_PERMISSION");
    expect(error.message).toMatch(/^sync is neither a superuser nor holds ACCESS SYSTEM TABLE.*GRANT ACCESS SYSTEM TABLE TO sync/);
  });

  it("accepts the owner once it holds ACCESS SYSTEM TABLE, and a superuser as is", async () => {
    await target.setup(["GRANT ACCESS SYSTEM TABLE TO sync"]);
    try {
      expect(await sync.query("SELECT identity_name FROM svv_relation_privileges WHERE namespace_name = 'sales'")).toEqual([{ identity_name: "analyst" }]);
      await expect(checkTargetPermissions(sync, { schemas: ["sales"] })).resolves.toBeUndefined();
      await expect(checkTargetPermissions(target.executor)).resolves.toBeUndefined();
    } finally {
      await target.setup(["REVOKE ACCESS SYSTEM TABLE FROM sync"]);
    }
  });

  it("cuts a long schema list into statements under 100 KB", async () => {
    await target.setup(["GRANT ACCESS SYSTEM TABLE TO sync"]);
    try {
      const schemas = ["sales", ...Array.from({ length: 4000 }, (_, i) => `schema_with_a_long_name_${String(i).padStart(5, "0")}`)];
      await target.api.reset();
      await expect(checkTargetPermissions(sync, { schemas })).resolves.toBeUndefined();
      expect(Math.max(...target.api.statements().flatMap((s) => s.sqls.map((sql) => Buffer.byteLength(sql))))).toBeLessThan(100 * 1024);
    } finally {
      await target.setup(["REVOKE ACCESS SYSTEM TABLE FROM sync"]);
    }
  });
});
