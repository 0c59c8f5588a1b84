import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/server/schedule.js";

describe("schedule durations", () => {
  it.each([
    ["90s", 90_000],
    ["15m", 900_000],
    ["1h", 3_600_000],
    ["250ms", 250],
  ])("%s = %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it("refuses anything else", () => {
    expect(() => parseDuration("15 minutes")).toThrow(RangeError);
  });
});
