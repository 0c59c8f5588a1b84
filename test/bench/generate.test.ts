import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_GENERATE_OPTIONS, generateCatalog } from "../../bench/generate.js";
import { parseSnapshot, serializeSnapshot } from "../../src/catalog/snapshot.js";
import { resolvePolicies, tableEntitlements } from "../../src/core/resolve.js";

const small = { databases: 3, tables: 50, columnsPerTable: 6, tagKeys: 3, valuesPerKey: 4, policies: 40, principals: 7, columnTagRatio: 0.2, seed: 7 };

describe("generateCatalog", () => {
  it("is deterministic: the same seed gives the same catalog, another seed another one", () => {
    const text = serializeSnapshot(generateCatalog(small), "json");
    expect(serializeSnapshot(generateCatalog(small), "json")).toBe(text);
    expect(serializeSnapshot(generateCatalog({ ...small, seed: 8 }), "json")).not.toBe(text);
  });

  it("has the sizes asked for", () => {
    const catalog = generateCatalog(small);
    expect(catalog.databases).toHaveLength(3);
    expect(catalog.databases.map((d) => d.tables.length)).toStrictEqual([17, 17, 16]);
    expect(catalog.databases.flatMap((d) => d.tables).every((t) => t.columns.length === 6)).toBe(true);
    expect(catalog.policies).toHaveLength(40);
    expect(new Set(catalog.policies.map((p) => p.principal)).size).toBe(7);
    expect(Object.keys(catalog.tags)).toStrictEqual(["pii", "domain", "access"]);
    expect(catalog.tags.domain).toHaveLength(4);
    const perDatabase = generateCatalog({ databases: 2, tablesPerDatabase: 5 });
    expect(perDatabase.databases.map((d) => d.tables.length)).toStrictEqual([5, 5]);
  });

  it("tags the share of columns asked for, and every database says pii: false", () => {
    const catalog = generateCatalog({ ...small, tables: 400 });
    const columns = catalog.databases.flatMap((d) => d.tables.flatMap((t) => t.columns));
    const tagged = columns.filter((c) => c.tags.pii === "true").length / columns.length;
    expect(tagged).toBeGreaterThan(0.15);
    expect(tagged).toBeLessThan(0.25);
    expect(catalog.databases.every((d) => d.tags.pii === "false")).toBe(true);
  });

  it("produces a catalog that parseSnapshot accepts unchanged, in both formats", () => {
    const catalog = generateCatalog(small);
    for (const format of ["json", "yaml"] as const) {
      expect(parseSnapshot(serializeSnapshot(catalog, format), format, "generated")).toStrictEqual(catalog);
    }
  });

  it("refuses options that cannot make a catalog", () => {
    expect(() => generateCatalog({ databases: 0 })).toThrow(RangeError);
    expect(() => generateCatalog({ tagKeys: 1 })).toThrow(/tagKeys/);
    expect(() => generateCatalog({ columnTagRatio: 2 })).toThrow(/columnTagRatio/);
  });

  it("has the shape of DESIGN §6 by default: ~190k grantee-table grants, ~50k of them column subsets", () => {
    const catalog = generateCatalog();
    const tables = catalog.databases.flatMap((d) => d.tables);
    expect(catalog.databases).toHaveLength(DEFAULT_GENERATE_OPTIONS.databases);
    expect(tables).toHaveLength(10_000);
    expect(tables.every((t) => t.columns.length === 20)).toBe(true);
    expect(catalog.policies).toHaveLength(500);
    expect(new Set(catalog.policies.map((p) => p.principal)).size).toBe(200);
    expect(tables.filter((t) => Object.keys(t.tags).length > 0).length).toBeGreaterThan(5_000);
    expect(catalog.policies.filter((p) => p.expressionName !== undefined).length).toBeGreaterThan(10);

    const entitlements = resolvePolicies(parseSnapshot(serializeSnapshot(catalog, "json"), "json", "generated"));
    const entries = tableEntitlements(entitlements);
    const subsets = entries.filter((t) => t.columnSelect !== null).length;
    expect(entries.length).toBeGreaterThan(170_000);
    expect(entries.length).toBeLessThan(220_000);
    expect(subsets).toBeGreaterThan(40_000);
    expect(subsets).toBeLessThan(60_000);
  });
});

describe("the generate CLI", () => {
  const repo = fileURLToPath(new URL("../../", import.meta.url));
  const run = promisify(execFile);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lfsync-generate-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the snapshot asked for", async () => {
    const out = join(dir, "catalog.json");
    const args = ["--import", "tsx", "bench/generate.ts", "--databases", "2", "--tables", "9", "--columns", "4", "--policies", "6", "--principals", "3", "--seed", "5", "--out", out];
    const { stderr } = await run(process.execPath, args, { cwd: repo });
    expect(stderr).toContain("2 databases, 9 tables, 6 policies");
    const text = await readFile(out, "utf8");
    expect(text).toBe(serializeSnapshot(generateCatalog({ databases: 2, tables: 9, columnsPerTable: 4, policies: 6, principals: 3, seed: 5 }), "json"));
  });

  it("fails with a message on a bad option", async () => {
    const failure = await run(process.execPath, ["--import", "tsx", "bench/generate.ts", "--tables", "many"], { cwd: repo }).then(
      () => null,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('--tables needs a number, not "many"');
  });
});
