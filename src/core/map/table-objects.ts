import { type Diagnostic, error } from "../diagnostics.js";
import type { GrantRegistry } from "../grant-columns.js";
import { tableKey } from "../grants.js";
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
  /** Per table id: the registry object of the whole table (-1: skipped, -2: not seen yet). */
  readonly #objects: Int32Array;
  readonly #sorted: (SortedColumns | undefined)[];
  /** 0 unknown, 1 every column name valid, 2 some invalid. */
  readonly #invalidColumns: Int8Array;
  readonly #tagSetCount: number;
  readonly #memberships = new Map<number, Uint8Array>();
  readonly #subsetLists = new Map<number, number>();
  readonly #diagnostics: Diagnostic[];
  readonly #reportedSystemColumns = new Set<string>();
  /** Per table id: 1 when another catalog table maps to the same Redshift table (made on first use). */
  #colliding: Uint8Array | undefined;

  constructor(entitlements: Entitlements, registry: GrantRegistry, names: IdentifierMapper, schemaOf: (database: string) => string | null, diagnostics: Diagnostic[]) {
    this.#diagnostics = diagnostics;
    this.#entitlements = entitlements;
    this.#tables = entitlements.tables;
    this.#registry = registry;
    this.#names = names;
    this.#schemaOf = schemaOf;
    this.#objects = new Int32Array(this.#tables.length).fill(-2);
    this.#sorted = new Array<SortedColumns | undefined>(this.#tables.length).fill(undefined);
    this.#invalidColumns = new Int8Array(this.#tables.length);
    this.#tagSetCount = this.#tables.reduce((max, t) => t.columnSetIds.reduce((m, id) => Math.max(m, id + 1), max), 0);
  }

  /** The registry object of the whole table, or -1 when its database is excluded, a name is invalid or another table maps to it too. */
  tableObject(tableId: number): number {
    let object = this.#objects[tableId]!;
    if (object === -2 && this.#collisions()[tableId] === 1) object = this.#objects[tableId] = -1;
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

  /**
   * Catalog tables that land on one Redshift table: Redshift folds ASCII capitals (Orders, orders;
   * aws-facts §6.5), or renames put two databases in one schema. Which one's tags govern it is
   * unknown, and the union of their grants could widen access, so none of them is granted on.
   * Only schemas where this can happen are keyed by name.
   */
  #collisions(): Uint8Array {
    if (this.#colliding !== undefined) return this.#colliding;
    const colliding = new Uint8Array(this.#tables.length);
    const schemas = new Map<string, string | null>();
    const firstDatabase = new Map<string, string>();
    const shared = new Set<string>();
    const schemaOf = (database: string): string | null => {
      let schema = schemas.get(database);
      if (schema === undefined) {
        const mapped = this.#schemaOf(database);
        schemas.set(database, (schema = mapped === null ? null : this.#names.fold(mapped)));
      }
      return schema;
    };
    for (const { database, table } of this.#tables) {
      const schema = schemaOf(database);
      if (schema === null) continue;
      const first = firstDatabase.get(schema);
      if (first === undefined) firstDatabase.set(schema, database);
      if ((first !== undefined && first !== database) || this.#names.changes(table)) shared.add(schema);
    }
    const byName = new Map<string, number[]>();
    this.#tables.forEach(({ database, table }, id) => {
      const schema = schemaOf(database);
      const name = schema !== null && shared.has(schema) ? this.#names.fold(table) : null;
      if (name === null) return;
      const ids = byName.get(tableKey(schema!, name));
      if (ids === undefined) byName.set(tableKey(schema!, name), [id]);
      else ids.push(id);
    });
    for (const [key, ids] of byName) {
      if (ids.length < 2) continue;
      for (const id of ids) colliding[id] = 1;
      const glue = ids.map((id) => `${this.#tables[id]!.database}.${this.#tables[id]!.table}`).join(", ");
      this.#diagnostics.push(error(`tables ${glue} all map to ${key.replace("\u0000", ".")} in the warehouse: which one's tags govern it is ambiguous, so none of them is granted on; rename one`));
    }
    return (this.#colliding = colliding);
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

  /** A column name that cannot be a name in the dialect, or only of a system column (no table has such a column). */
  readonly #isInvalidColumn = (name: string): boolean => {
    const folded = this.#names.fold(name);
    return folded === null || this.#names.isSystemColumn(folded);
  };

  /** A column whose name is invalid, or that shares its Redshift name with another (#sortedColumns leaves both out). */
  #hasInvalidColumn(tableId: number): boolean {
    if (this.#invalidColumns[tableId] === 0) {
      const names = this.#tables[tableId]!.columnNames;
      const invalid = names.some(this.#isInvalidColumn) || (names.some(this.#names.changes) && this.#sortedColumns(tableId).names.includes(null));
      this.#invalidColumns[tableId] = invalid ? 2 : 1;
    }
    return this.#invalidColumns[tableId] === 2;
  }

  #eagerSubset(tableId: number, columnSet: number): number {
    const info = this.#tables[tableId]!;
    const inSet = this.#membership(columnSet);
    info.columnNames.forEach((glue, c) => {
      if (inSet[info.columnSetIds[c]!] !== 1 || !this.#isInvalidColumn(glue)) return;
      const where = `column ${info.database}.${info.table}.${glue}`;
      const folded = this.#names.nameOf(glue, () => where);
      if (folded !== null && !this.#reportedSystemColumns.has(where)) {
        this.#reportedSystemColumns.add(where);
        this.#diagnostics.push(error(`${where}: ${folded} is the name of a system column, which no warehouse table can have: left out of column-level grants`));
      }
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
      if (name !== null) valid.push(name);
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
      const names = order.map((c) => (folded[c] === null || this.#names.isSystemColumn(folded[c]!) ? null : folded[c]!));
      const unique = info.columnNames.some(this.#names.changes) ? this.#withoutShared(info, order, names) : names;
      sorted = { names: unique, setIds: Int32Array.from(order, (c) => info.columnSetIds[c]!) };
      this.#sorted[tableId] = sorted;
    }
    return sorted;
  }

  /**
   * Columns that fold to one name (Email, email) are one Redshift column with two sets of tags:
   * left out of every column list (null), and reported.
   */
  #withoutShared(info: ResolvedTable, order: readonly number[], names: readonly (string | null)[]): (string | null)[] {
    const shared = names.map((n, i) => n !== null && (names[i - 1] === n || names[i + 1] === n));
    if (!shared.includes(true)) return [...names];
    const glue = order.filter((_, i) => shared[i]).map((c) => `${info.database}.${info.table}.${info.columnNames[c]!}`);
    this.#diagnostics.push(error(`columns ${glue.join(", ")} share their names in the warehouse (${[...new Set(names.filter((_, i) => shared[i]))].join(", ")}): ambiguous, left out of column-level grants; rename them`));
    return names.map((n, i) => (shared[i] ? null : n));
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
