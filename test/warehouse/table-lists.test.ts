import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTables, tableToken } from "../../src/warehouse/state/table-lists.js";

/** The reading migrations/0001 defines: the text as a JSON array of non-empty strings once `""` separates them. */
function byJson(text: string): string[] | "refused" {
  if (text === "") return [];
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return "refused";
  try {
    const names: unknown = JSON.parse(`[${text.replaceAll('""', '","')}]`);
    return Array.isArray(names) && names.every((name) => typeof name === "string" && name.length > 0) ? (names as string[]) : "refused";
  } catch {
    return "refused";
  }
}

const attempt = (text: string): string[] | "refused" => {
  try {
    return parseTables(text);
  } catch {
    return "refused";
  }
};

describe("parseTables", () => {
  const name = fc.oneof(fc.string({ minLength: 1, unit: "binary" }), fc.constantFrom('"', '\\', '\\u0022', "a\"b", "\u0000", "é", "😀"));

  it("reads back every list of names tableToken writes", () => {
    fc.assert(
      fc.property(fc.array(name, { maxLength: 6 }), (names) => {
        expect(parseTables(names.map(tableToken).join(""))).toEqual(names);
      }),
    );
  });

  it("never reads a text otherwise than its JSON reading does, and refuses what that reading refuses", () => {
    const piece = fc.constantFrom('"', '""', "\\", "\\u0022", '\\"', "a", "é", "\u0001", ",", "[", "]");
    const text = fc.oneof(fc.array(piece, { maxLength: 8 }).map((parts) => parts.join("")), fc.string({ unit: "binary" }));
    fc.assert(
      fc.property(text, (t) => {
        const read = attempt(t);
        // Texts only the JSON reading takes have an empty name between delimiters (`""""` reads as ","): refused.
        if (read !== "refused" || byJson(t) === "refused") expect(read).toEqual(byJson(t));
        else expect(t.slice(1, -1).split('""').some((part) => part === "" || part.includes('"'))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
