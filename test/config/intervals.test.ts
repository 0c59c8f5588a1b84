import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";

/** Issue 13 item 11: timers hold a signed 32-bit delay; a longer one fires at once, so runs go back to back. */
const base = { source: { kind: "file", path: "s.json" }, target: { kind: "pglite" } };

function problems(extra: Record<string, unknown>): string[] {
  const result = configSchema.safeParse({ ...base, ...extra });
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("config intervals", () => {
  it.each([["596h"], ["2147483647ms"], ["1s"], ["15m"]])("accepts schedule.every %s", (every) => {
    expect(problems({ schedule: { every } })).toEqual([]);
  });

  it.each([["597h"], ["2147483648ms"], ["35791395m"], ["999ms"], ["0s"]])("refuses schedule.every %s, naming the field", (every) => {
    const found = problems({ schedule: { every } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^schedule\.every: at (most|least)/);
  });

  it("refuses server.debounceMs above 2^31-1 and accepts the limit itself", () => {
    expect(problems({ server: { debounceMs: 2 ** 31 - 1 } })).toEqual([]);
    expect(problems({ server: { debounceMs: 2 ** 31 } })[0]).toMatch(/^server\.debounceMs: at most 2147483647 ms/);
  });

  it("bounds the server's and the target's timeouts the same way", () => {
    expect(problems({ server: { requestTimeoutMs: 2 ** 31 } })[0]).toMatch(/^server\.requestTimeoutMs/);
    expect(problems({ target: { kind: "postgres", url: "postgres:///x", lockTimeoutMs: 2 ** 31 } })[0]).toMatch(/^target/);
  });
});
