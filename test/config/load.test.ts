import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { createFileSource } from "../../src/catalog/file-source.js";
import { loadConfig, parseConfig } from "../../src/config/load.js";
import { SyncError } from "../../src/errors.js";

const minimal = { source: { kind: "file", path: "catalog.yaml" }, target: { kind: "pglite" } };
/** A config whose target is the Data API on database dev, with these target members. */
const dataApi = (target: Record<string, unknown>) => ({ source: minimal.source, target: { kind: "data-api", database: "dev", ...target } });

function configError(object: unknown, env: Record<string, string> = {}): SyncError {
  try {
    parseConfig(object, "/etc/lfsync", env);
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error("the config was accepted");
}

describe("parseConfig", () => {
  it("needs only source and target; everything else has defaults", () => {
    const config = parseConfig(minimal, "/etc/lfsync", {});
    expect(config).toMatchObject({
      source: { kind: "file", path: "/etc/lfsync/catalog.yaml" },
      target: { kind: "pglite" },
      stateSchema: "lfsync",
      safety: { maxRevokes: 500, maxRevokeRatio: 0.5 },
      lock: { kind: "memory" },
      logLevel: "info",
      mapping: { principals: {}, privileges: {}, databases: { include: ["*"], exclude: [], rename: {} } },
    });
    expect(config.mapping.principalRules).toHaveLength(1);
    expect(config.server).toBeUndefined();
  });

  it("resolves relative paths against the config folder and keeps absolute ones", () => {
    const relative = parseConfig({ source: { kind: "file", path: "../data/c.json" }, target: { kind: "pglite", dataDir: ".data/x" } }, "/etc/lfsync", {});
    expect(relative.source).toMatchObject({ path: resolve("/etc/data/c.json") });
    expect(relative.target).toMatchObject({ dataDir: resolve("/etc/lfsync/.data/x") });
    const absolute = parseConfig({ source: { kind: "file", path: "/srv/c.yml" }, target: { kind: "pglite" } }, "/etc/lfsync", {});
    expect(absolute.source).toMatchObject({ path: "/srv/c.yml" });
    expect(absolute.target).toStrictEqual({ kind: "pglite" });
  });

  it("returns a deep-frozen config", () => {
    const config = parseConfig({ ...minimal, mapping: { principals: { "arn:x": "g" } } }, "/", {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.mapping.principals)).toBe(true);
    expect(Object.isFrozen(config.mapping.principalRules[0])).toBe(true);
    expect(() => {
      (config.mapping.databases.include as string[]).push("x");
    }).toThrow(TypeError);
  });

  it("accepts a partial privilege override (one LF permission, not all five)", () => {
    const config = parseConfig({ ...minimal, mapping: { privileges: { SELECT: ["SELECT", "REFERENCES"] } } }, "/", {});
    expect(config.mapping.privileges).toStrictEqual({ SELECT: ["SELECT", "REFERENCES"] });
  });

  describe("mapping.databases.rename: one database per schema (two would merge their grants)", () => {
    const redshift = { kind: "data-api", database: "dev", workgroupName: "wg" };
    const renamed = (rename: Record<string, string>, target: unknown = minimal.target) => ({ source: minimal.source, target, mapping: { databases: { rename } } });

    it("refuses two databases renamed to one schema, naming the field and both databases", () => {
      const error = configError(renamed({ a: "x", c: "y", b: "x" }));
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toBe(
        [
          "invalid config (1 problem):",
          '  - mapping.databases.rename.b: databases "a" (-> "x"), "b" (-> "x") all map to postgres schema "x": their grants would merge (a grantee Lake Formation allows on one would hold the other); give each its own schema',
        ].join("\n"),
      );
    });

    it("redshift: refuses schema names that fold to one (X and x), once per schema", () => {
      const error = configError(renamed({ a: "Sales", b: "sales", c: "sales", d: "hr", e: "HR" }, redshift));
      expect(error.message).toContain("invalid config (2 problems)");
      expect(error.message).toContain('  - mapping.databases.rename.c: databases "a" (-> "Sales"), "b" (-> "sales"), "c" (-> "sales") all map to redshift schema "sales"');
      expect(error.message).toContain('  - mapping.databases.rename.e: databases "d" (-> "hr"), "e" (-> "HR") all map to redshift schema "hr"');
    });

    it("postgres keeps quoted names apart: X and x are two schemas; a swap is one schema each", () => {
      expect(parseConfig(renamed({ a: "X", b: "x" }), "/", {}).mapping.databases.rename).toStrictEqual({ a: "X", b: "x" });
      expect(parseConfig(renamed({ a: "b", b: "a" }, redshift), "/", {}).mapping.databases.rename).toStrictEqual({ a: "b", b: "a" });
    });
  });

  const modes = [
    { mode: "secretArn (the cluster named by the secret)", target: { secretArn: "arn:aws:secretsmanager:us-east-1:1:secret:s" } },
    { mode: "clusterIdentifier + secretArn", target: { clusterIdentifier: "c", secretArn: "arn:s" } },
    { mode: "clusterIdentifier + dbUser (GetClusterCredentials)", target: { clusterIdentifier: "c", dbUser: "sync" } },
    { mode: "clusterIdentifier alone (GetClusterCredentialsWithIAM)", target: { clusterIdentifier: "c" } },
    { mode: "workgroupName alone (Serverless)", target: { workgroupName: "wg" } },
    { mode: "workgroupName + secretArn", target: { workgroupName: "wg", secretArn: "arn:s" } },
    { mode: "dialect postgres with an explicit endpoint", target: { workgroupName: "wg", dialect: "postgres", endpoint: "http://127.0.0.1:4566" } },
  ];
  it.each(modes)("accepts the documented Data API mode: $mode", ({ target }) => {
    const config = parseConfig(dataApi(target), "/etc/lfsync", {});
    expect(config.target).toMatchObject(target);
  });

  it("accepts Redshift's own DROP for the redshift dialect and TRUNCATE for PostgreSQL", () => {
    const redshift = { kind: "data-api", database: "dev", workgroupName: "wg" };
    expect(parseConfig({ source: minimal.source, target: redshift, mapping: { privileges: { DROP: ["DROP"] } } }, "/", {}).mapping.privileges).toEqual({ DROP: ["DROP"] });
    expect(parseConfig({ ...minimal, mapping: { privileges: { DELETE: ["TRUNCATE"] } } }, "/", {}).mapping.privileges).toEqual({ DELETE: ["TRUNCATE"] });
  });

  it("resolves env:NAME in the secret fields, from the env given", () => {
    const env = { PG_URL: "postgres://u:pw@db/x", API_KEY: "k1", BASIC_PW: "p1", REPORT: "r1" };
    const config = parseConfig(
      {
        source: minimal.source,
        target: { kind: "postgres", url: "env:PG_URL" },
        server: { webhook: { apiKey: "env:API_KEY", basicUser: "eventbridge", basicPassword: "env:BASIC_PW" }, reportToken: "env:REPORT" },
      },
      "/",
      env,
    );
    expect(config.target).toStrictEqual({ kind: "postgres", url: "postgres://u:pw@db/x" });
    expect(config.server?.webhook).toMatchObject({ apiKey: "k1", basicUser: "eventbridge", basicPassword: "p1", apiKeyHeader: "x-api-key" });
    expect(config.server?.reportToken).toBe("r1");
  });

  it("keeps literal secrets as they are", () => {
    const config = parseConfig({ ...minimal, server: { webhook: { apiKey: "literal-key" } } }, "/", {});
    expect(config.server?.webhook.apiKey).toBe("literal-key");
  });

  it("reports every missing variable by field and name, never a secret value", () => {
    const error = configError(
      {
        source: minimal.source,
        target: { kind: "postgres", url: "env:PG_URL" },
        server: { webhook: { apiKey: "env:API_KEY", basicPassword: "env:EMPTY" }, reportToken: "env:not a name s3cr3t" },
      },
      { EMPTY: "", API_KEY: "present-value" },
    );
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(
      [
        "invalid config (3 problems):",
        "  - target.url: environment variable PG_URL is not set",
        "  - server.webhook.basicPassword: environment variable EMPTY is not set",
        "  - server.reportToken: env: must be followed by a variable name (letters, digits, _)",
      ].join("\n"),
    );
    expect(error.message).not.toContain("s3cr3t");
  });

  const rows: readonly { case: string; config: unknown; problems: readonly string[] }[] = [
    {
      case: "a wrong type inside the chosen target",
      config: { source: minimal.source, target: { kind: "postgres", url: 5 } },
      problems: ["target.url: Invalid input: expected string, received number"],
    },
    {
      case: "an unknown target kind",
      config: { source: minimal.source, target: { kind: "mysql" } },
      problems: ['target.kind: expected one of "postgres", "pglite", "data-api"'],
    },
    {
      case: "the data-api target's own rules",
      config: dataApi({}),
      problems: ["target.clusterIdentifier: set clusterIdentifier (provisioned, with dbUser, secretArn or neither"],
    },
    {
      case: "workgroupName with dbUser (not a documented credential mode)",
      config: dataApi({ workgroupName: "wg", dbUser: "sync" }),
      problems: ["target.dbUser: dbUser is not accepted with workgroupName"],
    },
    {
      case: "a cluster and a workgroup at once",
      config: dataApi({ workgroupName: "wg", clusterIdentifier: "c" }),
      problems: ["target.workgroupName: set clusterIdentifier (provisioned) or workgroupName (Serverless), not both"],
    },
    {
      case: "dbUser with secretArn",
      config: dataApi({ clusterIdentifier: "c", dbUser: "u", secretArn: "arn:s" }),
      problems: ["target.dbUser: set dbUser or secretArn, not both"],
    },
    {
      case: "dbUser without a cluster",
      config: dataApi({ secretArn: "arn:s", dbUser: "u" }),
      problems: ["target.dbUser: set dbUser or secretArn, not both"],
    },
    {
      case: "dialect postgres on a Data API target without an explicit endpoint",
      config: dataApi({ workgroupName: "wg", dialect: "postgres" }),
      problems: ["target.dialect: dialect postgres is for a local Data API endpoint only"],
    },
    {
      case: "TRUNCATE, which Redshift's GRANT does not take, for the redshift dialect",
      config: { ...dataApi({ workgroupName: "wg" }), mapping: { privileges: { DELETE: ["DELETE", "TRUNCATE"] } } },
      problems: ["mapping.privileges.DELETE[1]: Redshift has no table privilege TRUNCATE"],
    },
    {
      case: "an unknown source kind",
      config: { source: { kind: "s3" }, target: minimal.target },
      problems: ["source.kind: Invalid discriminator value. Expected 'file' | 'aws'"],
    },
    {
      case: "a missing source and an unknown field",
      config: { target: minimal.target, sorce: {} },
      problems: ["source: Invalid input", "sorce: unknown field"],
    },
    {
      case: "several problems in nested sections",
      config: { ...minimal, server: { port: "80", webhook: { apiKey: "" } }, safety: { maxRevokeRatio: 2 } },
      problems: ["server.port: Invalid input: expected number, received string", "server.webhook.apiKey: Too small", "safety.maxRevokeRatio: Too big"],
    },
    {
      case: "a snapshot file whose format cannot be told",
      config: { source: { kind: "file", path: "catalog.txt" }, target: minimal.target },
      problems: ["source.path: /etc/lfsync/catalog.txt: cannot tell the snapshot format"],
    },
    { case: "not a mapping at all", config: "hello", problems: ["(top level): Invalid input: expected object, received string"] },
  ];

  it.each(rows)("reports $case with its path", ({ config, problems }) => {
    const error = configError(config);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(`invalid config (${problems.length} problem${problems.length === 1 ? "" : "s"}):`);
    for (const problem of problems) expect(error.message).toContain(`  - ${problem}`);
  });
});

describe("loadConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lfsync-config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function loadError(path: string, env: Record<string, string> = {}): Promise<SyncError> {
    const error: unknown = await loadConfig(path, env).then(
      () => new Error("the config was accepted"),
      (e: unknown) => e,
    );
    if (error instanceof SyncError) return error;
    throw error;
  }

  it("reads YAML and resolves paths against the file's folder", async () => {
    const path = join(dir, "lfsync.yaml");
    await writeFile(path, "source: {kind: file, path: catalog.yaml}\ntarget: {kind: postgres, url: 'env:PG_URL'}\n");
    const config = await loadConfig(path, { PG_URL: "postgres://localhost/x" });
    expect(config.source).toStrictEqual({ kind: "file", path: join(dir, "catalog.yaml") });
    expect(config.target).toStrictEqual({ kind: "postgres", url: "postgres://localhost/x" });
  });

  it("reads JSON, which is YAML", async () => {
    const path = join(dir, "lfsync.json");
    await writeFile(path, JSON.stringify({ source: { kind: "file", path: "c.json" }, target: { kind: "pglite" }, logLevel: "debug" }));
    expect((await loadConfig(path, {})).logLevel).toBe("debug");
  });

  it("names the file in validation errors", async () => {
    const path = join(dir, "bad.yaml");
    await writeFile(path, "source: {kind: file, path: c.yaml}\ntarget: {kind: postgres, url: 'env:NOPE'}\n");
    const error = await loadError(path);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe(`${path}: invalid config (1 problem):\n  - target.url: environment variable NOPE is not set`);
  });

  it("reports a YAML syntax error without echoing the line (it may hold a secret)", async () => {
    const path = join(dir, "syntax.yaml");
    await writeFile(path, "server:\n  webhook: {apiKey: hunter2\n");
    const error = await loadError(path);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not valid YAML: `));
    expect(error.message).not.toContain("hunter2");
  });

  it("reports a missing file as CONFIG_INVALID, keeping the cause", async () => {
    const path = join(dir, "missing.yaml");
    const error = await loadError(path);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(path);
    expect(error.cause).toMatchObject({ code: "ENOENT" });
  });
});

describe("the demo config", () => {
  const repo = fileURLToPath(new URL("../../", import.meta.url));

  it("loads, and its catalog shows each case the demo is meant to show", async () => {
    const config = await loadConfig(join(repo, "config/demo.yaml"), {});
    expect(config.source).toStrictEqual({ kind: "file", path: join(repo, "config/demo-catalog.yaml") });
    expect(config.target).toStrictEqual({ kind: "pglite", dataDir: join(repo, ".data/demo") });
    if (config.source.kind !== "file") throw new Error("the demo reads a file");
    const { snapshot } = await createFileSource(config.source.path).read();
    const policies = snapshot.policies;
    expect(snapshot.databases.map((d) => d.name)).toStrictEqual(["equity_research", "fund_data", "customer", "hr_restricted"]);
    expect(policies.some((p) => p.expressionName !== undefined)).toBe(true);
    expect(policies.some((p) => p.resourceType === "DATABASE" && p.permissions.includes("CREATE_TABLE"))).toBe(true);
    expect(policies.some((p) => p.permissions.includes("ALL"))).toBe(true);
    expect(policies.some((p) => p.permissions.includes("INSERT") && p.expression?.pii?.includes("false"))).toBe(true);
    expect(policies.filter((p) => p.principal.includes(":user/")).length).toBe(1);
    const fundData = snapshot.databases.find((d) => d.name === "fund_data");
    expect(fundData?.tables.map((t) => t.name)).toContain("holdings_staging");
    expect(snapshot.databases.flatMap((d) => d.tables.flatMap((t) => t.columns)).filter((c) => c.tags.pii === "true").length).toBeGreaterThanOrEqual(4);
  });
});
