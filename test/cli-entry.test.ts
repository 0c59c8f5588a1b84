import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("..", import.meta.url).pathname;

describe("src/cli.ts", () => {
  it("is the entry point only: no module under src/ imports it (issue 14: no circle between the CLI and a run)", async () => {
    const src = join(ROOT, "src");
    const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith(".ts") && f !== "cli.ts");
    const importers: string[] = [];
    for (const file of files) {
      const text = await readFile(join(src, file), "utf8");
      if (/from\s+["'][./]*\/cli\.js["']|import\(\s*["'][./]*\/cli\.js["']\s*\)/.test(text)) importers.push(file);
    }
    expect(importers).toEqual([]);
    expect(files.length).toBeGreaterThan(20);
  });
});
