import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forEachKeysetPage, literalChunks, schemaChunks } from "../../src/warehouse/bounded-reads.js";
import type { Row, SqlExecutor } from "../../src/warehouse/executor.js";
import { createPgliteExecutor, type PostgresExecutor } from "../../src/warehouse/postgres-executor.js";

describe("schemaChunks", () => {
  it("groups consecutive schemas while their rows fit a page; a schema of a page or more is read alone", () => {
    const census = [
      { schema: "d", rows: 7 },
      { schema: "a", rows: 3 },
      { schema: "b", rows: 4 },
      { schema: "c", rows: 12 },
      { schema: "e", rows: 2 },
    ];
    expect(schemaChunks(census, "redshift", 10)).toEqual([["a", "b"], ["c"], ["d", "e"]]);
    expect(schemaChunks(census, "redshift", 1)).toEqual([["a"], ["b"], ["c"], ["d"], ["e"]]);
  });

  it("leaves out schemas without rows, and cuts chunks whose names would overflow an IN-list", () => {
    expect(schemaChunks([{ schema: "empty", rows: 0 }], "redshift", 10)).toEqual([]);
    const many = Array.from({ length: 30 }, (_, i) => ({ schema: `schema_${String(i).padStart(2, "0")}`, rows: 1 }));
    const chunks = schemaChunks(many, "redshift", 1_000, 100);
    expect(chunks.flat()).toEqual(many.map((c) => c.schema));
    for (const chunk of chunks) expect(literalChunks(chunk, "redshift", 100)).toHaveLength(1);
    expect(chunks.length).toBeGreaterThan(1);
  });
});

describe("forEachKeysetPage", () => {
  let executor: PostgresExecutor;
  const seen: string[] = [];
  let recording: SqlExecutor;
  beforeAll(async () => {
    executor = await createPgliteExecutor({});
    await executor.query("CREATE TABLE t (a text, b text, c int)");
    await executor.query("INSERT INTO t SELECT 's' || (i / 10), 't' || (i % 7), i FROM generate_series(1, 95) i");
    recording = { ...executor, dialect: executor.dialect, query: (sql: string) => (seen.push(sql), executor.query(sql)) };
  });
  afterAll(async () => {
    await executor.close();
  });

  it("hands every row over once, a page at a time, in key order; each later page is led by a condition on the first key alone", async () => {
    const pages: (readonly Row[])[] = [];
    await forEachKeysetPage(recording, { select: "SELECT a, b, c FROM t WHERE c > 5", keys: ["a", "b", "c"], keyExpressions: ["a", "b", "c"] }, 20, (page) => pages.push(page));
    const rows = pages.flat();
    expect(rows).toHaveLength(90);
    expect(new Set(rows.map((r) => r.c)).size).toBe(90);
    expect(pages.map((p) => p.length)).toEqual([20, 20, 20, 20, 10]);
    const all = await executor.query("SELECT a, b, c FROM t WHERE c > 5 ORDER BY a, b, c");
    expect(rows).toEqual(all);
    for (const sql of seen.slice(1)) expect(sql).toMatch(/WHERE c > 5 AND a >= E'[^']*' AND \(\(a > /);
  });
});
