import { LF_TABLE_PERMISSIONS, type PrincipalTableAccess } from "./entitlements.js";

const SELECT = LF_TABLE_PERMISSIONS.indexOf("SELECT");

/** One principal's access under construction, in columns indexed by group id. */
export class GroupAccessScratch {
  readonly full: Int32Array[];
  readonly columnSets: Int32Array;
  readonly columnBecause: Int32Array;
  readonly #seen: Uint8Array;
  #touched: Int32Array;
  touchedCount = 0;

  constructor(groupCount: number) {
    this.full = LF_TABLE_PERMISSIONS.map(() => new Int32Array(groupCount));
    this.columnSets = new Int32Array(groupCount);
    this.columnBecause = new Int32Array(groupCount);
    this.#seen = new Uint8Array(groupCount);
    this.#touched = new Int32Array(Math.max(Math.min(groupCount, 1024), 1));
  }

  touch(group: number): void {
    if (this.#seen[group] === 1) return;
    this.#seen[group] = 1;
    if (this.touchedCount === this.#touched.length) {
      const grown = new Int32Array(this.#touched.length * 2);
      grown.set(this.#touched);
      this.#touched = grown;
    }
    this.#touched[this.touchedCount++] = group;
  }

  /** The access gathered so far, ascending by group id; resets the scratch for the next principal. */
  take(principal: string): PrincipalTableAccess {
    const ids = this.#touched.slice(0, this.touchedCount).sort();
    const full = this.full.map(() => new Int32Array(ids.length));
    const columnSets = new Int32Array(ids.length);
    const columnBecause = new Int32Array(ids.length);
    ids.forEach((t, i) => {
      this.full.forEach((column, k) => {
        full[k]![i] = column[t]!;
        column[t] = 0;
      });
      // SELECT at table level makes the column-level SELECT moot.
      if (full[SELECT]![i] === 0) {
        columnSets[i] = this.columnSets[t]!;
        columnBecause[i] = this.columnBecause[t]!;
      }
      this.columnSets[t] = 0;
      this.columnBecause[t] = 0;
      this.#seen[t] = 0;
    });
    this.touchedCount = 0;
    return { principal, groups: ids, full, columnSets, columnBecause };
  }
}
