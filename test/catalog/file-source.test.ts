import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileSource } from "../../src/catalog/file-source.js";
import { SyncError } from "../../src/errors.js";

describe("createFileSource", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lfsync-file-source-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function readError(path: string): Promise<SyncError> {
    const error: unknown = await createFileSource(path).read().then(
      () => new Error("the read succeeded"),
      (e: unknown) => e,
    );
    if (error instanceof SyncError) return error;
    throw error;
  }

  it("reads the file again on every read(), in YAML and JSON", async () => {
    const yamlPath = join(dir, "catalog.yaml");
    const source = createFileSource(yamlPath);
    await writeFile(yamlPath, "tags: {PII: ['true']}\ndatabases: [{name: a, tables: []}]\n");
    expect(await source.read()).toStrictEqual({
      snapshot: { tags: { pii: ["true"] }, databases: [{ name: "a", tags: {}, tables: [] }], expressions: {}, policies: [] },
      warnings: [],
    });
    await writeFile(yamlPath, "databases: [{name: b, tables: []}]\n");
    expect((await source.read()).snapshot.databases.map((d) => d.name)).toStrictEqual(["b"]);

    const jsonPath = join(dir, "catalog.json");
    await writeFile(jsonPath, '\uFEFF{"databases": [{"name": "c", "tables": []}]}');
    expect((await createFileSource(jsonPath).read()).snapshot.databases.map((d) => d.name)).toStrictEqual(["c"]);
  });

  it("reports an invalid file as SNAPSHOT_INVALID naming the file and the path", async () => {
    const path = join(dir, "broken.yaml");
    await writeFile(path, "databases: [{name: a, tags: {Nope: x}, tables: []}]\n");
    const error = await readError(path);
    expect(error.code).toBe("SNAPSHOT_INVALID");
    expect(error.message).toContain(`${path}: invalid snapshot (1 problem):\n  - databases[0].tags.Nope: unknown tag key "Nope"`);
  });

  it("reports a missing file as SOURCE_INCOMPLETE, keeping the cause", async () => {
    const path = join(dir, "missing.json");
    const error = await readError(path);
    expect(error.code).toBe("SOURCE_INCOMPLETE");
    expect(error.message).toContain(path);
    expect(error.cause).toMatchObject({ code: "ENOENT" });
  });

  it("refuses a file whose format it cannot tell", () => {
    expect(() => createFileSource(join(dir, "catalog.txt"))).toThrow(expect.objectContaining({ code: "SNAPSHOT_INVALID" }));
  });
});
