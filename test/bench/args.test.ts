import { describe, expect, it } from "vitest";
import { flag, sizes } from "../../bench/args.js";

describe("bench flags", () => {
  const argv = ["node", "bench.ts", "--core", "0", "--data-api", "10000,100000", "--e2e"];
  it("reads the value after --name, and the fallback when it is absent or has no value", () => {
    expect(flag("data-api", "x", argv)).toBe("10000,100000");
    expect(flag("e2e", "10000", argv)).toBe("10000");
    expect(flag("missing", "fallback", argv)).toBe("fallback");
  });
  it("reads table counts; 0 skips the bench", () => {
    expect(sizes("data-api", "2000", argv)).toEqual([10000, 100000]);
    expect(sizes("core", "10000", argv)).toEqual([]);
    expect(sizes("other", "2000,10000", argv)).toEqual([2000, 10000]);
  });
});
