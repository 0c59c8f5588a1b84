import type { GrantRegistry } from "../grant-columns.js";
import type { Entitlements, ResolvedTable } from "../resolve/entitlements.js";
import { compareNullable, type IdentifierMapper } from "./names.js";

/** A table's columns in the order of their Redshift names (null: not a valid name). */
interface SortedColumns {
  readonly names: readonly (string | null)[];
  readonly setIds: Int32Array;
}

/**
 * Glue tables and column subsets -> registry ids of Redshift objects and column lists, each built
 * once per table (or table x column set) and shared by every grantee (DESIGN §6).
 */
export class TableObjects {
  readonly #tables: readonly ResolvedTable[];
  readonly #entitlements: Entitlements;
  readonly #registry: GrantRegistry;
  readonly #names: IdentifierMapper;
  readonly #schemaOf: (database: string) => string | null;
  /** Per table id: 1 when another Glue table maps to the same Redshift table (collisions.ts). */
  readonly #collided: Uint8Array;
  /** Per table id: the registry object of the whole table (-1: skipped, -2: not seen yet). */
  readonly #objects: Int32Array;
  readonly #sorted: (SortedColumns | undefined)[];
  /** 0 unknown, 1 every column name valid, 2 some invalid. */
  readonly #invalidColumns: Int8Array;
  readonly #tagSetCount: number;
  readonly #memberships = new Map<number, Uint8Array>();
  readonly #subsetLists = new Map<number, number>();

  constructor(entitlements: Entitlements, registry: GrantRegistry, names: IdentifierMapper, schemaOf: (database: string) => string | null, collided: Uint8Array) {
    this.#entitlements = entitlements;
    this.#tables = entitlements.tables;
    this.#registry = registry;
    this.#names = names;
    this.#schemaOf = schemaOf;
    this.#collided = collided;
    this.#objects = new Int32Array(this.#tables.length).fill(-2);
    this.#sorted = new Array<SortedColumns | undefined>(this.#tables.length).fill(undefined);
    this.#invalidColumns = new Int8Array(this.#tables.length);
    this.#tagSetCount = this.#tables.reduce((max, t) => t.columnSetIds.reduce((m, id) => Math.max(m, id + 1), max), 0);
  }

  /** The registry object of the whole table, or -1 when its database is excluded, a name is invalid or another Glue table maps to it. */
  tableObject(tableId: number): number {
    let object = this.#objects[tableId]!;
    if (object === -2 && this.#collided[tableId] === 1) object = this.#objects[tableId] = -1;
    if (object === -2) {
      const info = this.#tables[tableId]!;
      const schemaName = this.#schemaOf(info.database);
      const schema = schemaName === null ? null : this.#names.nameOf(schemaName, () => `database ${info.database}`);
      const table = schemaName === null ? null : this.#names.nameOf(info.table, () => `table ${info.database}.${info.table}`);
      object = schema === null || table === null ? -1 : this.#registry.objectId(schema, table);
      this.#objects[tableId] = object;
    }
    return object;
  }

  /** The registry id of a table's columns in a column set: mapped, distinct and sorted (0: none valid). */
  subsetList(tableId: number, columnSet: number): number {
    const key = columnSet * this.#tables.length + tableId;
    let id = this.#subsetLists.get(key);
    if (id === undefined) {
      // A table whose column names are all valid has a non-empty list for every column set of its
      // group: made when read. Otherwise made now, reporting the invalid names it contains.
      id = this.#hasInvalidColumn(tableId) ? this.#eagerSubset(tableId, columnSet) : this.#registry.addLazyColumns(() => this.#subsetColumns(tableId, columnSet));
      this.#subsetLists.set(key, id);
    }
    return id;
  }

  #hasInvalidColumn(tableId: number): boolean {
    if (this.#invalidColumns[tableId] === 0) this.#invalidColumns[tableId] = this.#tables[tableId]!.columnNames.some((c) => this.#names.fold(c) === null) ? 2 : 1;
    return this.#invalidColumns[tableId] === 2;
  }

  #eagerSubset(tableId: number, columnSet: number): number {
    const info = this.#tables[tableId]!;
    const inSet = this.#membership(columnSet);
    info.columnNames.forEach((glue, c) => {
      if (inSet[info.columnSetIds[c]!] === 1 && this.#names.fold(glue) === null) this.#names.nameOf(glue, () => `column ${info.database}.${info.table}.${glue}`);
    });
    const list = this.#subsetColumns(tableId, columnSet);
    return list.length === 0 ? 0 : this.#registry.addColumns(list);
  }

  /** The Redshift names of a table's columns in a column set: valid, distinct, sorted. */
  #subsetColumns(tableId: number, columnSet: number): string[] {
    const sorted = this.#sortedColumns(tableId);
    const inSet = this.#membership(columnSet);
    const valid: string[] = [];
    for (let c = 0; c < sorted.names.length; c++) {
      if (inSet[sorted.setIds[c]!] !== 1) continue;
      const name = sorted.names[c]!;
      // Folded names can collide (Redshift lower-cases): one entry.
      if (name !== null && (valid.length === 0 || valid[valid.length - 1] !== name)) valid.push(name);
    }
    return valid;
  }

  /** Built once per table, so that each subset is a filter of it and needs no sort of its own. */
  #sortedColumns(tableId: number): SortedColumns {
    let sorted = this.#sorted[tableId];
    if (sorted === undefined) {
      const info = this.#tables[tableId]!;
      const folded = info.columnNames.map(this.#names.fold);
      const order = info.columnNames.map((_, c) => c).sort((a, b) => compareNullable(folded[a]!, folded[b]!));
      sorted = { names: order.map((c) => folded[c]!), setIds: Int32Array.from(order, (c) => info.columnSetIds[c]!) };
      this.#sorted[tableId] = sorted;
    }
    return sorted;
  }

  /** Per column set: a lookup table of its tag-set ids. */
  #membership(columnSet: number): Uint8Array {
    let inSet = this.#memberships.get(columnSet);
    if (inSet === undefined) {
      inSet = new Uint8Array(this.#tagSetCount);
      for (const id of this.#entitlements.columnSets.members(columnSet)) inSet[id] = 1;
      this.#memberships.set(columnSet, inSet);
    }
    return inSet;
  }
}
