/**
 * Sets of small non-negative integers, interned: id 0 is the empty set, and extending or joining
 * two sets is memoised. Used for the policies behind a grant (`because`: a few hundred distinct
 * sets for hundreds of thousands of grants) and for the tag sets whose columns a SELECT covers.
 */
export class IntSets {
  readonly #lists: (readonly number[])[] = [[]];
  readonly #ids = new Map<string, number>([["", 0]]);
  /** Per set id: member -> set ∪ {member}. Small-integer keys only: no heap numbers on the hot path. */
  readonly #extended: (Map<number, number> | undefined)[] = [];
  #recentMember = -1;
  #recentStamp = 0;
  #recentStampOf = new Int32Array(0);
  #recentResultOf = new Int32Array(0);
  /** Per smaller set id: larger set id -> union. */
  readonly #joined: (Map<number, number> | undefined)[] = [];

  get size(): number {
    return this.#lists.length;
  }

  /** The members of a set, ascending. */
  members(id: number): readonly number[] {
    return this.#lists[id]!;
  }

  /** Interns an ascending list of distinct members. */
  intern(sorted: readonly number[]): number {
    const key = sorted.join(",");
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#lists.length;
      this.#lists.push(sorted);
      this.#ids.set(key, id);
    }
    return id;
  }

  /** set ∪ {member}. Callers add one member to many sets in a row: the last member's results are kept in arrays. */
  with(id: number, member: number): number {
    if (member !== this.#recentMember) {
      this.#recentMember = member;
      this.#recentStamp++;
    }
    if (id < this.#recentStampOf.length && this.#recentStampOf[id] === this.#recentStamp) return this.#recentResultOf[id]!;
    const result = this.#withMember(id, member);
    if (id >= this.#recentStampOf.length) this.#growRecent(id);
    this.#recentStampOf[id] = this.#recentStamp;
    this.#recentResultOf[id] = result;
    return result;
  }

  #growRecent(id: number): void {
    const size = Math.max(id + 1, this.#recentStampOf.length * 2, 64);
    const stamps = new Int32Array(size);
    stamps.set(this.#recentStampOf);
    const results = new Int32Array(size);
    results.set(this.#recentResultOf);
    this.#recentStampOf = stamps;
    this.#recentResultOf = results;
  }

  #withMember(id: number, member: number): number {
    let byMember = this.#extended[id];
    if (byMember === undefined) this.#extended[id] = byMember = new Map();
    let result = byMember.get(member);
    if (result === undefined) {
      const list = this.#lists[id]!;
      result = list.includes(member) ? id : this.intern([...list, member].sort((a, b) => a - b));
      byMember.set(member, result);
    }
    return result;
  }

  /** a ∪ b. */
  union(a: number, b: number): number {
    if (a === b || b === 0) return a;
    if (a === 0) return b;
    const low = a < b ? a : b;
    const high = a < b ? b : a;
    let byHigh = this.#joined[low];
    if (byHigh === undefined) this.#joined[low] = byHigh = new Map();
    let result = byHigh.get(high);
    if (result === undefined) {
      result = this.intern([...new Set([...this.#lists[a]!, ...this.#lists[b]!])].sort((x, y) => x - y));
      byHigh.set(high, result);
    }
    return result;
  }
}
