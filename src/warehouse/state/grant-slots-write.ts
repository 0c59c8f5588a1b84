import { compareStrings, type Dialect, type Grant, SlotMap } from "../../core/grants.js";
import { byteLength, quoteIdent, quoteLiteral } from "../../core/sql.js";
import { boundedStatements, DEFAULT_MAX_STATEMENT_BYTES } from "./sql.js";
import { tableToken } from "./table-lists.js";
import { removalStatements, type RemovalKeys } from "./grant-slots-removal.js";

/**
 * Writes `grant_slots` (migrations/0001): one row per group of slots that share grantee, schema,
 * privilege, form (column list) and policies, listing its tables (table-lists.ts). A row says only
 * what it must: no key per slot, no timestamp; a short reference to the run (whose time is in `runs`).
 */

/**
 * Bytes of one row's `policies`, `columns` and `tables` (Redshift counts VARCHAR lengths in bytes):
 * with the names, a row stays under about 14 KB, far below the Data API's 64 KB per result row and
 * 100 KB per statement (aws-facts §5.3), so that a page of the state read holds thousands of rows
 * (grant-slots-read.ts); a longer column list or table list is split over rows.
 */
const MAX_POLICIES_BYTES = 4_096;
const MAX_COLUMNS_BYTES = 4_096;
const MAX_TABLES_BYTES = 4_096;
/**
 * Characters of the run id a row keeps (a UUID's first 8 hex digits): enough to find the run in
 * `runs` (run_id LIKE 'ref%'); nothing decides by it, and a whole UUID on every row would cost
 * more bytes than most column lists.
 */
export const RUN_REF_LENGTH = 8;

/**
 * One change to the recorded state of a slot (grantee x schema/table x privilege). The changes of
 * one slot in one batch (render.ts keeps a plan step whole) say what the slot holds afterwards:
 * - the whole-table (or schema) form: the last of its `record`/`forget` wins;
 * - the column form: the columns of its `record`s, minus those a later `forget` names, and NOTHING
 *   else. A `record` of columns lists every column the slot keeps, not only the new ones, and a
 *   `forget` of some columns without a `record` of those that stay forgets the whole column form.
 *   (The state store cannot keep "the other recorded columns": it renders SQL without reading.)
 * A form the batch does not touch keeps its rows.
 */
export interface StateRowChange {
  readonly op: "record" | "forget";
  readonly grant: Grant;
  /** The policies behind the grant, as the plan refers to them (ids). */
  readonly because: readonly string[];
  /** Nothing was recorded for this grant's slot: it is in no row, so none needs rewriting before the INSERT. */
  readonly fresh?: boolean;
}

/** What one batch leaves in one slot. */
interface SlotWrite {
  readonly grant: Grant;
  needsRemoval: boolean;
  /** undefined: the whole-table form is untouched; null: forgotten; else recorded for these reasons. */
  full: readonly string[] | null | undefined;
  /** The batch's changes to the column form, in order; undefined when it touches none. */
  columnChanges: StateRowChange[] | undefined;
}

/** Rows to insert that share everything but their tables. */
interface RowGroup {
  /** `(kind, grantee, schema, privilege, ` */
  readonly head: string;
  /** The column list (null: the whole table or the schema). */
  readonly columns: readonly string[] | null;
  readonly policies: string;
  /** Table tokens (table-lists.ts); null for the schema-level row. */
  readonly tables: string[] | null;
}

/** The policy ids as a JSON array, cut to what the column holds, saying how many were left out. */
function policiesText(because: readonly string[]): string {
  let kept = [...because];
  let text = JSON.stringify(kept);
  while (byteLength(text) > MAX_POLICIES_BYTES && kept.length > 0) {
    kept = kept.slice(0, Math.floor(kept.length / 2));
    text = JSON.stringify([...kept, `... and ${because.length - kept.length} more`]);
  }
  return text;
}

/** One literal per policy list: lists are shared by many grants (map.ts, recordedGrantsOf). */
function policyLiterals(dialect: Dialect): (because: readonly string[]) => string {
  const literals = new Map<readonly string[], string>();
  return (because) => {
    let text = literals.get(because);
    if (text === undefined) literals.set(because, (text = quoteLiteral(policiesText(because), dialect)));
    return text;
  };
}

/** The column form after the changes: see StateRowChange. */
function finalColumns(changes: readonly StateRowChange[]): { columns: readonly string[]; because: readonly string[] } {
  const only = changes.length === 1 ? changes[0]! : undefined;
  if (only?.op === "record") return { columns: only.grant.object.columns ?? [], because: only.because };
  const kept = new Set<string>();
  let because: readonly string[] = [];
  for (const change of changes) {
    for (const column of change.grant.object.columns ?? []) {
      if (change.op === "record") kept.add(column);
      else kept.delete(column);
    }
    if (change.op === "record") because = change.because;
  }
  return { columns: [...kept].sort(compareStrings), because };
}

/** Items cut into runs whose sizes add up to at most `maxBytes` (at least one item per run). */
function chunksOf<T>(items: readonly T[], size: (item: T) => number, maxBytes: number): T[][] {
  const chunks: T[][] = [[]];
  let bytes = 0;
  for (const item of items) {
    const bytesOfItem = size(item);
    if (chunks[chunks.length - 1]!.length > 0 && bytes + bytesOfItem > maxBytes) {
      chunks.push([]);
      bytes = 0;
    }
    chunks[chunks.length - 1]!.push(item);
    bytes += bytesOfItem;
  }
  return chunks;
}

const ESCAPED = /['\\]/;

/** Bytes a text takes inside a literal (quoteLiteral doubles `'` and `\`). */
function literalBytes(text: string): number {
  let bytes = byteLength(text);
  if (!ESCAPED.test(text)) return bytes;
  for (let i = 0; i < text.length; i++) if (text[i] === "'" || text[i] === "\\") bytes++;
  return bytes;
}

/**
 * The row key: 48 bits of a hash of the row as written (cyrb53: rows differ, so keys do, and a rare
 * tie costs the paged read only a re-read). Not a digest: nothing trusts it.
 */
function rowKey(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return ((h2 >>> 0) & 0xffff).toString(16).padStart(4, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
}

/**
 * `columns` literals of a column list: the JSON array in one row, or split over rows when it does
 * not fit in MAX_COLUMNS_BYTES (a table may have 1600 columns of 127 bytes).
 */
function columnListLiterals(columns: readonly string[], dialect: Dialect): string[] {
  const whole = quoteLiteral(JSON.stringify(columns), dialect);
  if (byteLength(whole) <= MAX_COLUMNS_BYTES) return [whole];
  return chunksOf(columns, (column) => literalBytes(JSON.stringify(column)) + 1, MAX_COLUMNS_BYTES).map((chunk) => quoteLiteral(JSON.stringify(chunk), dialect));
}

/** The slots a batch touches, each with what the batch leaves in it, in order of appearance. */
function slotWrites(changes: readonly StateRowChange[]): SlotWrite[] {
  const bySlot = new SlotMap<SlotWrite>();
  const slots: SlotWrite[] = [];
  for (const change of changes) {
    let slot = bySlot.get(change.grant);
    if (slot === undefined) {
      slot = { grant: change.grant, needsRemoval: false, full: undefined, columnChanges: undefined };
      bySlot.set(change.grant, slot);
      slots.push(slot);
    }
    if (change.op === "forget" || change.fresh !== true) slot.needsRemoval = true;
    if (change.grant.object.columns === null) slot.full = change.op === "record" ? change.because : null;
    else (slot.columnChanges ??= []).push(change);
  }
  return slots;
}

/** What the batch takes out of the recorded rows: each touched form of each slot it does not know to be fresh. */
function removalKeys(slots: readonly SlotWrite[]): RemovalKeys {
  const keys: RemovalKeys = { tables: [], schemas: [] };
  for (const slot of slots) {
    if (!slot.needsRemoval) continue;
    const { grantee, object, privilege } = slot.grant;
    if (object.table === null) keys.schemas.push({ grantee, schema: object.schema, privilege });
    else {
      if (slot.full !== undefined) keys.tables.push({ grantee, schema: object.schema, privilege, columns: false, table: object.table });
      if (slot.columnChanges !== undefined) keys.tables.push({ grantee, schema: object.schema, privilege, columns: true, table: object.table });
    }
  }
  return keys;
}

/** The rows the batch leaves, grouped: tables of one grantee, schema, privilege, form and policy list share rows. */
function rowGroups(slots: readonly SlotWrite[], dialect: Dialect): RowGroup[] {
  const policyLiteral = policyLiterals(dialect);
  const heads = new Map<string, string>();
  // Column lists are shared by the grants of a table (the registry's objects): each spelled once.
  const columnTexts = new Map<readonly string[], string>();
  const columnText = (columns: readonly string[]): string => {
    let text = columnTexts.get(columns);
    if (text === undefined) columnTexts.set(columns, (text = JSON.stringify(columns)));
    return text;
  };
  const groups = new Map<string, RowGroup>();
  const add = (grant: Grant, columns: readonly string[] | null, because: readonly string[]): void => {
    const { grantee, object, privilege } = grant;
    const headKey = `${grantee.kind}\u0000${grantee.name}\u0000${object.schema}\u0000${privilege}`;
    let head = heads.get(headKey);
    if (head === undefined) {
      heads.set(headKey, (head = `(${quoteLiteral(grantee.kind, dialect)}, ${quoteLiteral(grantee.name, dialect)}, ${quoteLiteral(object.schema, dialect)}, ${quoteLiteral(privilege, dialect)}, `));
    }
    const policies = policyLiteral(because);
    if (object.table === null) {
      groups.set(`${headKey}\u0000schema`, { head, columns: null, policies, tables: null });
      return;
    }
    const key = `${headKey}\u0000${columns === null ? "" : columnText(columns)}\u0000${policies}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { head, columns, policies, tables: [] }));
    group.tables!.push(tableToken(object.table));
  };
  for (const slot of slots) {
    if (slot.full !== undefined && slot.full !== null) add(slot.grant, null, slot.full);
    if (slot.columnChanges !== undefined) {
      const { columns, because } = finalColumns(slot.columnChanges);
      if (columns.length > 0) add(slot.grant, columns, because);
    }
  }
  return [...groups.values()];
}

/**
 * The VALUES of one group: its tables cut into lists of at most `maxTablesBytes`; a long column list
 * cut into parts, each part a row listing the same tables (part 0 first, which alone counts the slots).
 */
function groupRows(group: RowGroup, run: string, dialect: Dialect, maxTablesBytes: number): string[] {
  const columnParts = group.columns === null ? ["NULL"] : columnListLiterals(group.columns, dialect);
  const tableLists = group.tables === null ? ["NULL"] : chunksOf(group.tables, literalBytes, maxTablesBytes).map((list) => quoteLiteral(list.join(""), dialect));
  const rows: string[] = [];
  for (const tables of tableLists) {
    for (const [part, columns] of columnParts.entries()) {
      const body = `${group.head}${columns}, ${group.policies}, ${tables}, ${part}, `;
      rows.push(`${body}'${rowKey(body + run)}', ${run})`);
    }
  }
  return rows;
}

/**
 * State statements for a batch of changes (pure, so apply runs them in the batch's transaction).
 * Every slot form the batch touches is taken out of the rows that list it (unless every change of
 * the slot is `fresh`: then no row lists it), then the batch's rows are inserted, grouped.
 */
export function renderStateStatements(
  dialect: Dialect,
  stateSchema: string,
  changes: readonly StateRowChange[],
  runId: string,
  maxStatementBytes = DEFAULT_MAX_STATEMENT_BYTES,
): string[] {
  const run = quoteLiteral(runId.slice(0, RUN_REF_LENGTH), dialect);
  const slots = slotWrites(changes);
  const table = `${quoteIdent(stateSchema)}.grant_slots`;
  const maxTablesBytes = Math.min(MAX_TABLES_BYTES, Math.floor(maxStatementBytes / 4));
  const rows = rowGroups(slots, dialect).flatMap((group) => groupRows(group, run, dialect, maxTablesBytes));
  return [
    ...removalStatements(table, removalKeys(slots), dialect, maxStatementBytes),
    ...boundedStatements(`INSERT INTO ${table} (grantee_kind, grantee, schema_name, privilege, columns, policies, tables, part, row_key, run_ref) VALUES `, rows, "", maxStatementBytes),
  ];
}
