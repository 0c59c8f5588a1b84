import { describe, expect, it } from "vitest";
import { preferredType } from "../../src/server/negotiate.js";

describe("content negotiation", () => {
  const offers = ["text/html", "application/json", "text/plain"] as const;
  it.each([
    [undefined, "text/html"],
    ["*/*", "text/html"],
    ["application/json", "application/json"],
    ["text/plain", "text/plain"],
    ["text/*", "text/html"],
    ["text/plain, application/json", "text/plain"],
    ["application/json;q=0.5, text/plain", "text/plain"],
    ["text/html;q=0, */*", "application/json"],
    ["image/png", null],
  ])("%s -> %s", (accept, expected) => {
    expect(preferredType(accept, offers)).toBe(expected);
  });
});
