import type { GrantColumns } from "../grant-columns.js";

/**
 * Desired, recorded and held grants, each sorted in plan order by its keys, walked together one
 * slot at a time (a merge of three sorted lists). Slots only held (through grants made outside the
 * service) come too: the planner reports them as unmanaged, and revokes them for `authoritative` grantees.
 */
export class SortedSides {
  /** The current slot's plan key. */
  key = 0;
  /** The current slot's desired row, or -1. Desired slots are distinct; if one comes twice, the later wins. */
  desired = -1;
  /** The current slot's recorded rows: the first recordedCount entries (the array is reused). */
  readonly recordedRows: number[] = [];
  recordedCount = 0;
  /** The current slot's held rows: the first heldCount entries (the array is reused). */
  readonly heldRows: number[] = [];
  heldCount = 0;
  readonly #d: { readonly order: Int32Array; readonly keys: Float64Array; readonly length: number; i: number };
  readonly #r: { readonly order: Int32Array; readonly keys: Float64Array; readonly length: number; i: number };
  readonly #h: { readonly order: Int32Array; readonly keys: Float64Array; readonly length: number; i: number };

  constructor(desired: GrantColumns, recorded: GrantColumns, held: GrantColumns, objectRank: Int32Array, granteeRank: Int32Array) {
    const side = (g: GrantColumns) => ({ ...g.planOrder(objectRank, granteeRank), length: g.length, i: 0 });
    this.#d = side(desired);
    this.#r = side(recorded);
    this.#h = side(held);
  }

  /** Moves to the next slot that is desired, recorded or held; false at the end. */
  next(): boolean {
    const d = this.#d;
    const r = this.#r;
    const h = this.#h;
    if (d.i >= d.length && r.i >= r.length && h.i >= h.length) return false;
    const dKey = d.i < d.length ? d.keys[d.i]! : Infinity;
    const rKey = r.i < r.length ? r.keys[r.i]! : Infinity;
    const hKey = h.i < h.length ? h.keys[h.i]! : Infinity;
    const key = Math.min(dKey, rKey, hKey);
    this.key = key;
    this.desired = -1;
    while (d.i < d.length && d.keys[d.i] === key) this.desired = d.order[d.i++]!;
    this.recordedCount = 0;
    while (r.i < r.length && r.keys[r.i] === key) this.recordedRows[this.recordedCount++] = r.order[r.i++]!;
    this.heldCount = 0;
    while (h.i < h.length && h.keys[h.i] === key) this.heldRows[this.heldCount++] = h.order[h.i++]!;
    return true;
  }
}
