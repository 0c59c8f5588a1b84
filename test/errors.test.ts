import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, exitCodeOf, SyncError } from "../src/errors.js";

/** Like fastify's errors test: the registry and the README's exit-code table say the same thing. */
describe("error registry", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const table = [...readme.matchAll(/^\| (\d) \| ([A-Z_]+) \|/gm)].map((m) => [m[2]!, Number(m[1])] as const);

  it("documents every error code with its exit code in the README, and nothing else", () => {
    const documented = Object.fromEntries(table);
    const registry = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.exit]));
    expect(documented).toEqual(registry);
  });

  it("maps a SyncError to its exit code and anything else to 1", () => {
    expect(exitCodeOf(new SyncError("SAFETY_REFUSED", "x"))).toBe(2);
    expect(exitCodeOf(new SyncError("LEASE_HELD", "x"))).toBe(3);
    expect(exitCodeOf(new Error("boom"))).toBe(1);
  });
});
