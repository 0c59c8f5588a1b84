import type { Expression, TagMap } from "../catalog/model.js";

/**
 * LF: a child inherits its parent's effective tags and overrides them key by key; a resource holds
 * one value per key (aws-facts §1.2, trap 6). Never a union of values.
 */
export function effectiveTags(parent: TagMap, assigned: TagMap): TagMap {
  if (Object.keys(assigned).length === 0) return parent;
  return { ...parent, ...assigned };
}

/**
 * LF: AND across the expression's keys, OR within a key's values; a resource without one of the
 * keys does not match; keys the expression does not name don't matter (aws-facts §1.3, trap 7).
 * `*` has no documented meaning in a policy, so it never matches (reported by the resolver).
 */
export function matchesExpression(expression: Expression, tags: TagMap): boolean {
  for (const key of Object.keys(expression)) {
    const value = tags[key];
    if (value === undefined || value === "*") return false;
    const allowed = expression[key] ?? [];
    if (!allowed.includes(value)) return false;
  }
  return true;
}

/**
 * Gives each distinct effective tag set a small integer id, so expressions are evaluated once per
 * distinct set instead of once per column (DESIGN §6).
 */
export class TagSetInterner {
  readonly #ids = new Map<string, number>();
  readonly sets: TagMap[] = [];
  readonly #children: (Map<string, number> | undefined)[] = [];

  /**
   * The id of a child's effective tags (DESIGN §2): its parent's set overridden by what the child
   * assigns. Memoised per (parent, assignment), so the common case costs one small key.
   */
  internChild(parentId: number, assigned: TagMap): number {
    if (Object.keys(assigned).length === 0) return parentId;
    let byAssigned = this.#children[parentId];
    if (byAssigned === undefined) this.#children[parentId] = byAssigned = new Map();
    const key = canonicalTagKey(assigned);
    let id = byAssigned.get(key);
    if (id === undefined) {
      id = this.intern(effectiveTags(this.sets[parentId]!, assigned));
      byAssigned.set(key, id);
    }
    return id;
  }

  intern(tags: TagMap): number {
    const key = canonicalTagKey(tags);
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(tags);
      this.#ids.set(key, id);
    }
    return id;
  }
}

function canonicalTagKey(tags: TagMap): string {
  const keys = Object.keys(tags).sort();
  return JSON.stringify(keys.map((k) => [k, tags[k]]));
}

/** Human form of an expression: `access in (public, internal) AND pii in (false)`. */
export function describeExpression(expression: Expression): string {
  const parts = Object.keys(expression)
    .sort()
    .map((k) => `${k} in (${(expression[k] ?? []).join(", ")})`);
  return parts.length === 0 ? "(empty expression)" : parts.join(" AND ");
}
