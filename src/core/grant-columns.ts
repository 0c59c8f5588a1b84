import { compareStrings, type Grant, type Grantee, type ObjectRef, type Privilege, PRIVILEGES } from "./grants.js";

/**
 * Grants as columns of small integers (DESIGN §6): at 100k tables a run handles millions of
 * grants, and one JS object per grant at every stage is what made it slow and large. Names,
 * objects, column lists and explanations are interned once in a GrantRegistry; a GrantColumns
 * holds one row of integers per grant. Objects are made only for what a plan reports.
 */
export class GrantRegistry {
  readonly grantees: Grantee[] = [];
  /** Schema (table = null) or whole table; columns always null here. */
  readonly objects: ObjectRef[] = [];
  /** Column lists, sorted; id 0 is "no list": the whole table (or schema). Undefined until made (see addLazyColumns). */
  readonly #columnLists: (readonly string[] | null | undefined)[] = [null];
  readonly #makeColumns: ((() => readonly string[]) | undefined)[] = [undefined];
  readonly becauseLists: (readonly string[])[] = [];
  readonly #granteeIds = { group: new Map<string, number>(), role: new Map<string, number>() };
  readonly #objectIds = new Map<string, Map<string | null, number>>();
  readonly #columnIds = new Map<string, number>();
  readonly #columnListIds = new Map<readonly string[], number>();
  #indexedColumnLists = 1;
  /** Per column-list id, the first id with the same content (filled when indexed). */
  readonly #canonical: number[] = [0];
  readonly #becauseIds = new Map<readonly string[], number>();
  readonly #becauseTextIds = new Map<string, number>();

  granteeId(grantee: Grantee): number {
    const names = this.#granteeIds[grantee.kind];
    let id = names.get(grantee.name);
    if (id === undefined) {
      id = this.grantees.length;
      this.grantees.push({ kind: grantee.kind, name: grantee.name });
      names.set(grantee.name, id);
    }
    return id;
  }

  objectId(schema: string, table: string | null): number {
    let tables = this.#objectIds.get(schema);
    if (tables === undefined) this.#objectIds.set(schema, (tables = new Map()));
    let id = tables.get(table);
    if (id === undefined) {
      id = this.objects.length;
      this.objects.push({ schema, table, columns: null });
      tables.set(table, id);
    }
    return id;
  }

  /** Id of a sorted, distinct column list (0 for null), found by content. */
  columnsId(columns: readonly string[] | null): number {
    if (columns === null) return 0;
    let id = this.#columnListIds.get(columns);
    if (id !== undefined) return id;
    this.#indexColumnLists();
    // NUL joins: no column name contains it.
    const key = columns.join("\u0000");
    id = this.#columnIds.get(key);
    if (id === undefined) {
      id = this.#columnLists.length;
      this.#columnLists.push(columns);
      this.#makeColumns.push(undefined);
      this.#canonical.push(id);
      this.#columnIds.set(key, id);
      this.#indexedColumnLists = this.#columnLists.length;
    }
    this.#columnListIds.set(columns, id);
    return id;
  }

  /** Lists added by addColumns join the content index only once content matters. */
  #indexColumnLists(): void {
    for (; this.#indexedColumnLists < this.#columnLists.length; this.#indexedColumnLists++) {
      const id = this.#indexedColumnLists;
      const key = this.columnList(id)!.join("\u0000");
      const first = this.#columnIds.get(key);
      if (first === undefined) this.#columnIds.set(key, id);
      this.#canonical[id] = first ?? id;
    }
  }

  /** Whether two column-list ids hold the same list (ids from addColumns may differ for one content). */
  sameColumns(a: number, b: number): boolean {
    if (a === b) return true;
    if (a === 0 || b === 0) return false;
    this.#indexColumnLists();
    return this.#canonical[a] === this.#canonical[b];
  }

  /**
   * A new id for a column list the caller knows to be new (the mapper's subsets are distinct per
   * table): no content key is built unless columnsId is asked later. Two ids for one content only
   * make the planner compare the lists by content.
   */
  addColumns(columns: readonly string[]): number {
    this.#columnLists.push(columns);
    this.#makeColumns.push(undefined);
    this.#canonical.push(-1);
    return this.#columnLists.length - 1;
  }

  /**
   * Like addColumns, for a non-empty list made only when someone reads it: a steady-state plan
   * compares list ids and never needs most lists' names.
   */
  addLazyColumns(make: () => readonly string[]): number {
    this.#columnLists.push(undefined);
    this.#makeColumns.push(make);
    this.#canonical.push(-1);
    return this.#columnLists.length - 1;
  }

  /** The sorted column list of an id; null for id 0 (whole table or schema). */
  columnList(id: number): readonly string[] | null {
    let list = this.#columnLists[id];
    if (list === undefined) {
      list = this.#makeColumns[id]!();
      this.#columnLists[id] = list;
      this.#makeColumns[id] = undefined;
    }
    return list;
  }

  becauseId(because: readonly string[]): number {
    let id = this.#becauseIds.get(because);
    if (id !== undefined) return id;
    const key = because.join("\u0000");
    id = this.#becauseTextIds.get(key);
    if (id === undefined) {
      id = this.becauseLists.length;
      this.becauseLists.push(because);
      this.#becauseTextIds.set(key, id);
    }
    this.#becauseIds.set(because, id);
    return id;
  }

  /** The ObjectRef of an object with a column list. */
  objectWithColumns(objectId: number, columnsId: number): ObjectRef {
    const object = this.objects[objectId]!;
    return columnsId === 0 ? object : { schema: object.schema, table: object.table, columns: this.columnList(columnsId) };
  }

  /** Rank of every object in plan order: schema, the schema itself before its tables, table. */
  objectRanks(): Int32Array {
    const order = this.objects.map((_, id) => id);
    const objects = this.objects;
    order.sort((x, y) => {
      const a = objects[x]!;
      const b = objects[y]!;
      return compareStrings(a.schema, b.schema) || (a.table === null ? (b.table === null ? 0 : -1) : b.table === null ? 1 : compareStrings(a.table, b.table));
    });
    const ranks = new Int32Array(order.length);
    order.forEach((id, rank) => (ranks[id] = rank));
    return ranks;
  }

  /** Rank of every grantee: kind, then name. */
  granteeRanks(): Int32Array {
    const order = this.grantees.map((_, id) => id);
    order.sort((x, y) => compareStrings(this.grantees[x]!.kind, this.grantees[y]!.kind) || compareStrings(this.grantees[x]!.name, this.grantees[y]!.name));
    const ranks = new Int32Array(order.length);
    order.forEach((id, rank) => (ranks[id] = rank));
    return ranks;
  }
}

/** Index of each privilege in PRIVILEGES, as stored in GrantColumns.privilege. */
export const PRIVILEGE_ID: Readonly<Record<Privilege, number>> = Object.fromEntries(PRIVILEGES.map((p, i) => [p, i])) as Record<Privilege, number>;

/** Rank of each privilege id in the alphabetical order of the names (plan order). */
export const PRIVILEGE_RANK: readonly number[] = (() => {
  const alphabetical = [...PRIVILEGES].sort(compareStrings);
  return PRIVILEGES.map((p) => alphabetical.indexOf(p));
})();

/** One row per grant: grantee, privilege, object, column list and explanation ids of a GrantRegistry. */
export class GrantColumns {
  grantee = new Int32Array(1024);
  privilege = new Uint8Array(1024);
  object = new Int32Array(1024);
  columns = new Int32Array(1024);
  /** -1: no explanation recorded (held grants). */
  because = new Int32Array(1024);
  length = 0;

  push(grantee: number, privilege: number, object: number, columns: number, because: number): void {
    if (this.length === this.grantee.length) this.#grow();
    const i = this.length++;
    this.grantee[i] = grantee;
    this.privilege[i] = privilege;
    this.object[i] = object;
    this.columns[i] = columns;
    this.because[i] = because;
  }

  #grow(): void {
    const size = this.grantee.length * 2;
    const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.grantee = grow(this.grantee, (n) => new Int32Array(n));
    this.privilege = grow(this.privilege, (n) => new Uint8Array(n));
    this.object = grow(this.object, (n) => new Int32Array(n));
    this.columns = grow(this.columns, (n) => new Int32Array(n));
    this.because = grow(this.because, (n) => new Int32Array(n));
  }

  /** Grant objects into columns, interning their parts. */
  static from(grants: readonly (Grant & { readonly because?: readonly string[] })[], registry: GrantRegistry): GrantColumns {
    const columns = new GrantColumns();
    for (const g of grants) {
      columns.push(
        registry.granteeId(g.grantee),
        PRIVILEGE_ID[g.privilege],
        registry.objectId(g.object.schema, g.object.table),
        registry.columnsId(g.object.columns),
        g.because === undefined ? -1 : registry.becauseId(g.because),
      );
    }
    return columns;
  }

  /** Row i as an object. */
  grantAt(i: number, registry: GrantRegistry): Grant & { readonly because: readonly string[] } {
    const because = this.because[i]!;
    return {
      grantee: registry.grantees[this.grantee[i]!]!,
      privilege: PRIVILEGES[this.privilege[i]!]!,
      object: registry.objectWithColumns(this.object[i]!, this.columns[i]!),
      because: because < 0 ? [] : registry.becauseLists[because]!,
    };
  }

  /**
   * The rows in plan order (schema, the schema itself before its tables, table, grantee kind and
   * name, privilege name), with each row's position as one number, ascending: `keys[k]` belongs to
   * row `order[k]` (exact below 2^31 objects and 2^17 grantees). Two stable counting sorts, by
   * grantee and privilege, then by object: linear, and nothing allocated per row.
   */
  planOrder(objectRank: Int32Array, granteeRank: Int32Array): { readonly order: Int32Array; readonly keys: Float64Array } {
    const n = this.length;
    const major = new Int32Array(n);
    const minor = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      major[i] = objectRank[this.object[i]!]!;
      minor[i] = granteeRank[this.grantee[i]!]! * 16 + PRIVILEGE_RANK[this.privilege[i]!]!;
    }
    const byMinor = countingSort(n, granteeRank.length * 16, minor, null);
    const order = countingSort(n, objectRank.length, major, byMinor);
    const keys = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const row = order[k]!;
      keys[k] = major[row]! * 2_097_152 + minor[row]!;
    }
    return { order, keys };
  }
}

/** Stable counting sort of rows 0..n-1 (or of `input`, a permutation of them) by key[row] in [0, range). */
function countingSort(n: number, range: number, key: Int32Array, input: Int32Array | null): Int32Array {
  const starts = new Int32Array(range + 1);
  for (let i = 0; i < n; i++) starts[key[i]! + 1]!++;
  for (let k = 1; k <= range; k++) starts[k]! += starts[k - 1]!;
  const output = new Int32Array(n);
  if (input === null) {
    for (let i = 0; i < n; i++) output[starts[key[i]!]!++] = i;
  } else {
    for (let i = 0; i < n; i++) {
      const row = input[i]!;
      output[starts[key[row]!]!++] = row;
    }
  }
  return output;
}
