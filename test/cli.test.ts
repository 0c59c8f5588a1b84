import { execFile } from "node:child_process";
import { cp, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeSnapshot } from "../src/catalog/snapshot.js";
import { configSchema } from "../src/config/schema.js";
import { createDynamoDbLock, ensureLeaseTable } from "../src/lock/dynamodb-lock.js";
import { targetKey } from "../src/run/wiring.js";
import { qualifiedName, quoteIdent } from "../src/core/sql.js";
import { catalog, database, policy, role, table } from "./support/catalog-builders.js";
import { dynaliteClient, startDynalite } from "./support/dynalite.js";
import { createTestDatabase, type RunningPostgres, startPostgres } from "./support/postgres.js";

/**
 * The contract checked from outside (issue 2): after `npm run build`, a config with only a file
 * source and a postgres target; `plan --format json` prints the plan JSON and nothing else on
 * stdout, `apply --yes` exits 0, on hostile names, tables missing in the target and unmapped principals.
 */
const ROOT = new URL("..", import.meta.url).pathname;
const run = promisify(execFile);

const HOSTILE_SCHEMA = 'sales "eu"; --';
const HOSTILE_TABLE = "orders\\x'; DROP TABLE t";
const HOSTILE_COLUMN = "e-mail ✉";

let work: string;
let server: RunningPostgres;
let url: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWithEnv({}, ...args);
}

async function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(work, "dist", "cli.js"), ...args], { cwd: work, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function writeCatalog(policies: ReturnType<typeof policy>[]): Promise<void> {
  const snapshot = catalog({
    databases: [
      database(HOSTILE_SCHEMA, { access: "internal" }, [
        table(HOSTILE_TABLE, {}, ["id", [HOSTILE_COLUMN, { access: "restricted" }]]),
        table("not_loaded", {}, ["id"]),
      ]),
    ],
    policies,
  });
  await writeFile(join(work, "snapshot.json"), serializeSnapshot({ ...snapshot, tags: { access: ["internal", "restricted"] } }, "json"));
}

const POLICIES = [
  policy(role("analyst"), "TABLE", { access: ["internal"] }, ["SELECT", "INSERT"]),
  policy("arn:aws:iam::123456789012:user/nobody", "TABLE", { access: ["internal"] }, ["SELECT"]),
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "lfsync-cli-"));
  await run("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", join(work, "dist")], { cwd: ROOT });
  await cp(join(ROOT, "migrations"), join(work, "migrations"), { recursive: true });
  await cp(join(ROOT, "package.json"), join(work, "package.json"));
  await symlink(join(ROOT, "node_modules"), join(work, "node_modules"));
  server = await startPostgres();
  url = await createTestDatabase(server.url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    [
      `CREATE ROLE analyst NOLOGIN`,
      `CREATE SCHEMA ${quoteIdent(HOSTILE_SCHEMA)}`,
      `CREATE TABLE ${qualifiedName(HOSTILE_SCHEMA, HOSTILE_TABLE)} (id int, ${quoteIdent(HOSTILE_COLUMN)} text)`,
    ].join(";\n"),
  );
  await client.end();
  await writeCatalog(POLICIES);
  await writeFile(join(work, "config.yaml"), `source: {kind: file, path: snapshot.json}\ntarget: {kind: postgres, url: ${JSON.stringify(url)}}\n`);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe("dist/cli.js", () => {
  it("plans as JSON on stdout only, applies with exit 0, then has nothing to do", async () => {
    const plan = await cli("plan", "--config", "config.yaml", "--format", "json");
    expect(plan.code).toBe(0);
    const json = JSON.parse(plan.stdout) as { changes: { op: string; privilege: string; object: { schema: string; table: string | null; columns: string[] | null } }[]; pending: unknown[]; warnings: string[]; summary: Record<string, number> };
    expect(Object.keys(json)).toEqual(expect.arrayContaining(["changes", "pending", "warnings", "summary"]));
    // The restricted column keeps analyst at column level, so INSERT is dropped (LF column subset rule).
    expect(json.changes.map((c) => `${c.op} ${c.privilege} ${c.object.table ?? "-"} ${JSON.stringify(c.object.columns)}`).sort()).toEqual([
      `grant SELECT ${HOSTILE_TABLE} ["id"]`,
      "grant USAGE - null",
    ]);
    expect(json.pending).toHaveLength(2); // SELECT and INSERT on not_loaded, a full-table match
    expect(json.warnings.join("\n")).toContain("user/nobody has no grantee mapping");

    const apply = await cli("apply", "--config", "config.yaml", "--yes");
    expect(apply.code).toBe(0);
    // stderr carries structured JSON logs only, none at error level.
    const logs = apply.stderr.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { level: number });
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
    expect(apply.stdout).toMatch(/succeeded, 2 granted, 0 revoked, 2 pending/);
    const again = await cli("plan", "--config", "config.yaml", "--format", "json");
    expect((JSON.parse(again.stdout) as { summary: { grants: number; revokes: number } }).summary).toMatchObject({ grants: 0, revokes: 0 });
  });

  it("exits 2 when safety refuses: no policies while grants are recorded", async () => {
    await writeCatalog([]);
    try {
      const refused = await cli("apply", "--config", "config.yaml", "--yes");
      expect(refused.code).toBe(2);
      expect(refused.stdout + refused.stderr).toContain("SAFETY_REFUSED");
    } finally {
      await writeCatalog(POLICIES);
    }
  });

  it("reconcile exits 3 while another run holds the DynamoDB lease (dynalite), and 0 once it is released", async () => {
    const dynalite = await startDynalite();
    const client = dynaliteClient(dynalite.endpoint);
    try {
      await ensureLeaseTable(client, "leases");
      const lock = { kind: "dynamodb", table: "leases", region: "us-east-1", endpoint: dynalite.endpoint } as const;
      await writeFile(join(work, "lease.yaml"), `source: {kind: file, path: snapshot.json}\ntarget: {kind: postgres, url: ${JSON.stringify(url)}}\nlock: ${JSON.stringify(lock)}\n`);
      const config = configSchema.parse({ source: { kind: "file", path: "snapshot.json" }, target: { kind: "postgres", url }, lock });
      const other = createDynamoDbLock({ table: "leases", leaseSeconds: 60 }, { client });
      const lease = await other.acquire(targetKey(config), "another-task");
      const credentials = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_REGION: "us-east-1" };
      const busy = await cliWithEnv(credentials, "reconcile", "--config", "lease.yaml");
      expect(busy.code).toBe(3);
      expect(busy.stdout).toContain("LEASE_HELD");
      expect(busy.stdout).toContain("another-task");
      await lease.release();
      const done = await cliWithEnv(credentials, "reconcile", "--config", "lease.yaml");
      expect(done.stdout).toMatch(/succeeded/);
      expect(done.code).toBe(0);
      await other.close();
    } finally {
      client.destroy();
      await dynalite.stop();
    }
  });

  it("exits 1 naming the field of an invalid config, and 4 when the source cannot be read", async () => {
    await writeFile(join(work, "bad.yaml"), "source: {kind: file, path: snapshot.json}\ntarget: {kind: postgres}\n");
    const bad = await cli("plan", "--config", "bad.yaml");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("target.url");
    await writeFile(join(work, "missing.yaml"), `source: {kind: file, path: nope.json}\ntarget: {kind: postgres, url: ${JSON.stringify(url)}}\n`);
    const missing = await cli("apply", "--config", "missing.yaml", "--yes");
    expect(missing.code).toBe(4);
  });
});
