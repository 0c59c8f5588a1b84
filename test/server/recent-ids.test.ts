import { describe, expect, it } from "vitest";
import { createRecentIds } from "../../src/server/recent-ids.js";

describe("recent event ids", () => {
  it("forgets ids after the TTL and beyond the maximum count", () => {
    let now = 0;
    const ids = createRecentIds({ max: 3, ttlMs: 100, now: () => now });
    ids.add("a");
    now = 50;
    ids.add("b");
    expect(ids.has("a")).toBe(true);
    now = 120;
    expect(ids.has("a")).toBe(false);
    expect(ids.has("b")).toBe(true);
    ids.add("c");
    ids.add("d");
    ids.add("e");
    expect(ids.size).toBe(3);
    expect(ids.has("b")).toBe(false);
    expect(ids.has("e")).toBe(true);
  });
});
