import { describe, expect, it } from "vitest";
import type { Expression, TagMap } from "../../src/catalog/model.js";
import { describeExpression, effectiveTags, matchesExpression, TagSetInterner } from "../../src/core/tags.js";

describe("effectiveTags: override key by key, never a union (aws-facts §1.2, trap 6)", () => {
  it.each<[string, TagMap, TagMap, TagMap]>([
    ["child without tags inherits", { access: "public" }, {}, { access: "public" }],
    ["child replaces the parent's value", { access: "public" }, { access: "restricted" }, { access: "restricted" }],
    ["child adds a key the parent lacks", { access: "public" }, { pii: "true" }, { access: "public", pii: "true" }],
    ["override of one key keeps the others", { access: "public", owner: "x" }, { access: "internal" }, { access: "internal", owner: "x" }],
  ])("%s", (_situation, parent, assigned, expected) => {
    expect(effectiveTags(parent, assigned)).toEqual(expected);
  });
});

describe("matchesExpression: AND across keys, OR within a key (aws-facts §1.3, trap 7)", () => {
  it.each<[string, Expression, TagMap, boolean]>([
    ["value in the list", { access: ["public", "internal"] }, { access: "internal" }, true],
    ["value not in the list", { access: ["public"] }, { access: "internal" }, false],
    ["every key must match", { access: ["public"], pii: ["false"] }, { access: "public", pii: "true" }, false],
    ["both keys match", { access: ["public"], pii: ["false"] }, { access: "public", pii: "false" }, true],
    ["resource missing a key does not match", { access: ["public"], pii: ["false"] }, { access: "public" }, false],
    ["extra keys on the resource are ignored", { access: ["public"] }, { access: "public", owner: "x" }, true],
    ["* is never a wildcard", { access: ["*"] }, { access: "public" }, false],
    ["* is never a literal either", { access: ["*"] }, { access: "*" }, false],
    ["a key named like an Object member is still missing", { constructor: ["x"] }, {}, false],
  ])("%s", (_situation, expression, tags, expected) => {
    expect(matchesExpression(expression, tags)).toBe(expected);
  });
});

describe("TagSetInterner", () => {
  it("gives equal tag sets one id whatever their key order", () => {
    const interner = new TagSetInterner();
    const a = interner.intern({ access: "public", pii: "true" });
    const b = interner.intern({ pii: "true", access: "public" });
    const c = interner.intern({ access: "public" });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(interner.sets).toHaveLength(2);
  });
});

describe("describeExpression", () => {
  it("sorts keys and keeps values in order", () => {
    expect(describeExpression({ pii: ["false"], access: ["public", "internal"] })).toBe("access in (public, internal) AND pii in (false)");
    expect(describeExpression({})).toBe("(empty expression)");
  });
});
