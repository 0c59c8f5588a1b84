import { matchesExpression, type TagSetInterner } from "../tags.js";
import type { SignatureGroup } from "./entitlements.js";
import type { IntSets } from "./int-sets.js";
import type { PreparedExpression } from "./prepare-policies.js";

/** A group match code: NONE, FULL, or (>= 0) the `columnSets` id of the matching tag sets. */
export const NONE = -1;
export const FULL = -2;

/**
 * Expression matching with its caches (DESIGN §6): one evaluation per distinct expression x
 * distinct tag set, one subset test per distinct expression x signature group.
 */
export class GroupMatcher {
  readonly #interner: TagSetInterner;
  readonly #groups: readonly SignatureGroup[];
  readonly #columnSets: IntSets;
  readonly #setMatches = new Map<string, Int8Array>();
  readonly #groupMatches = new Map<string, Int32Array>();

  constructor(interner: TagSetInterner, groups: readonly SignatureGroup[], columnSets: IntSets) {
    this.#interner = interner;
    this.#groups = groups;
    this.#columnSets = columnSets;
  }

  /** Whether the tag set `setId` satisfies the expression. */
  matchesSet(expr: PreparedExpression, setId: number): boolean {
    let cache = this.#setMatches.get(expr.key);
    if (cache === undefined) this.#setMatches.set(expr.key, (cache = new Int8Array(this.#interner.sets.length)));
    if (cache[setId] === 0) cache[setId] = matchesExpression(expr.expression, this.#interner.sets[setId]!) ? 1 : 2;
    return cache[setId] === 1;
  }

  /** Per signature group id, how the expression matches it, as a match code. */
  matchGroups(expr: PreparedExpression): Int32Array {
    let result = this.#groupMatches.get(expr.key);
    if (result !== undefined) return result;
    result = new Int32Array(this.#groups.length);
    this.#groups.forEach((group, g) => {
      const matching = group.setIds.filter((id) => this.matchesSet(expr, id));
      result![g] = matching.length === 0 ? NONE : matching.length === group.setIds.length ? FULL : this.#columnSets.intern(matching);
    });
    this.#groupMatches.set(expr.key, result);
    return result;
  }
}
