import { compareStrings, type Dialect, type Grant, SlotMap } from "../../core/grants.js";
import { byteLength, quoteIdent, quoteLiteral, quoteNullable } from "../../core/sql.js";
import { boundedStatements, DEFAULT_MAX_STATEMENT_BYTES } from "./sql.js";

/**
 * Writes `grant_slots` (migrations/0001): one row per slot form the service applied. A row says
 * only what it must: grantee, object, privilege, the column list, the ids of the policies behind it
 * and the run (whose time is in `runs`). Nothing is repeated: no key column, no timestamp per row.
 */

/**
 * Bytes of `policies` and of one row's `columns` (Redshift counts VARCHAR lengths in bytes): together
 * they keep a row under the Data API's 64 KB per result row (aws-facts §5.3) and its INSERT under
 * 100 KB, so a long column list is split over rows.
 */
const MAX_POLICIES_BYTES = 16_384;
const MAX_COLUMNS_BYTES = 32_768;

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
  /** Nothing was recorded for this grant's slot: its rows need no DELETE before the INSERT. */
  readonly fresh?: boolean;
}

/** What one batch leaves in one slot. */
interface SlotWrite {
  readonly grant: Grant;
  needsDelete: boolean;
  /** undefined: the whole-table row is untouched; null: forgotten; else recorded for these reasons. */
  full: readonly string[] | null | undefined;
  /** The batch's changes to the column form, in order; undefined when it touches none. */
  columnChanges: StateRowChange[] | undefined;
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
function finalColumns(changes: readonly StateRowChange[]): { columns: string[]; because: readonly string[] } {
  const only = changes.length === 1 ? changes[0]! : undefined;
  if (only?.op === "record") return { columns: [...(only.grant.object.columns ?? [])], because: only.because };
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

/**
 * `columns` literals of one slot: the JSON array in one row, or split over rows when it does not
 * fit in MAX_COLUMNS_BYTES (a table may have 1600 columns of 127 bytes).
 */
function columnListLiterals(columns: readonly string[], dialect: Dialect): string[] {
  const whole = quoteLiteral(JSON.stringify(columns), dialect);
  if (byteLength(whole) <= MAX_COLUMNS_BYTES) return [whole];
  const chunks: string[][] = [[]];
  let bytes = 0;
  for (const column of columns) {
    const size = byteLength(quoteLiteral(JSON.stringify(column), dialect)) + 1;
    if (chunks[chunks.length - 1]!.length > 0 && bytes + size > MAX_COLUMNS_BYTES) {
      chunks.push([]);
      bytes = 0;
    }
    chunks[chunks.length - 1]!.push(column);
    bytes += size;
  }
  return chunks.map((chunk) => quoteLiteral(JSON.stringify(chunk), dialect));
}

/** The rows of one slot form: whole table (columns null) or a column list, split over rows when long. */
function slotRows(grant: Grant, columns: readonly string[] | null, policies: string, tail: string, dialect: Dialect): string[] {
  const literal = (value: string | null): string => quoteNullable(value, dialect);
  const head = `(${literal(grant.grantee.kind)}, ${literal(grant.grantee.name)}, ${literal(grant.object.schema)}, ${literal(grant.object.table)}, ${literal(grant.privilege)}, `;
  if (columns === null) return [`${head}NULL, ${policies}, ${tail}`];
  return columnListLiterals(columns, dialect).map((list) => `${head}${list}, ${policies}, ${tail}`);
}

/** The slots a batch touches, each with what the batch leaves in it, in order of appearance. */
function slotWrites(changes: readonly StateRowChange[]): SlotWrite[] {
  const bySlot = new SlotMap<SlotWrite>();
  const slots: SlotWrite[] = [];
  for (const change of changes) {
    let slot = bySlot.get(change.grant);
    if (slot === undefined) {
      slot = { grant: change.grant, needsDelete: false, full: undefined, columnChanges: undefined };
      bySlot.set(change.grant, slot);
      slots.push(slot);
    }
    if (change.op === "forget" || change.fresh !== true) slot.needsDelete = true;
    if (change.grant.object.columns === null) slot.full = change.op === "record" ? change.because : null;
    else (slot.columnChanges ??= []).push(change);
  }
  return slots;
}

/** Which rows of a slot a DELETE removes: both forms, or the one the batch touches. */
function formFilter(slot: SlotWrite): string {
  if (slot.full === undefined) return " AND columns IS NOT NULL";
  if (slot.columnChanges === undefined) return " AND columns IS NULL";
  return "";
}

/**
 * The WHERE terms deleting the touched slots: one term per grantee x schema x privilege x form,
 * naming its tables in one IN list (split when it would not fit in a statement).
 */
function deleteTerms(slots: readonly SlotWrite[], dialect: Dialect, maxListBytes: number): string[] {
  const groups = new Map<string, { head: string; filter: string; tables: string[]; schemaLevel: boolean }>();
  for (const slot of slots) {
    if (!slot.needsDelete) continue;
    const { grantee, object, privilege } = slot.grant;
    const filter = formFilter(slot);
    const key = JSON.stringify([grantee.kind, grantee.name, object.schema, privilege, filter, object.table === null]);
    let group = groups.get(key);
    if (group === undefined) {
      const head = `grantee_kind = ${quoteLiteral(grantee.kind, dialect)} AND grantee = ${quoteLiteral(grantee.name, dialect)} AND schema_name = ${quoteLiteral(object.schema, dialect)} AND privilege = ${quoteLiteral(privilege, dialect)}`;
      groups.set(key, (group = { head, filter, tables: [], schemaLevel: object.table === null }));
    }
    if (object.table !== null) group.tables.push(quoteLiteral(object.table, dialect));
  }
  const terms: string[] = [];
  for (const { head, filter, tables, schemaLevel } of groups.values()) {
    if (schemaLevel) terms.push(`(${head} AND table_name IS NULL${filter})`);
    else for (const list of boundedStatements("", tables, "", maxListBytes)) terms.push(`(${head} AND table_name IN (${list})${filter})`);
  }
  return terms;
}

/**
 * State statements for a batch of changes (pure, so apply runs them in the batch's transaction).
 * Every slot form the batch touches is rewritten: its rows are deleted (unless every change of the
 * slot is `fresh`), then its final rows are inserted, one per slot form (a few when a column list
 * is split).
 */
export function renderStateStatements(
  dialect: Dialect,
  stateSchema: string,
  changes: readonly StateRowChange[],
  runId: string,
  maxStatementBytes = DEFAULT_MAX_STATEMENT_BYTES,
): string[] {
  const tail = `${quoteLiteral(runId, dialect)})`;
  const policyLiteral = policyLiterals(dialect);
  const slots = slotWrites(changes);
  const rows: string[] = [];
  for (const slot of slots) {
    if (slot.full !== undefined && slot.full !== null) rows.push(...slotRows(slot.grant, null, policyLiteral(slot.full), tail, dialect));
    if (slot.columnChanges !== undefined) {
      const { columns, because } = finalColumns(slot.columnChanges);
      if (columns.length > 0) rows.push(...slotRows(slot.grant, columns, policyLiteral(because), tail, dialect));
    }
  }
  const table = `${quoteIdent(stateSchema)}.grant_slots`;
  const deletePrefix = `DELETE FROM ${table} WHERE `;
  return [
    ...boundedStatements(deletePrefix, deleteTerms(slots, dialect, Math.floor((maxStatementBytes - deletePrefix.length) / 2)), "", maxStatementBytes, " OR "),
    ...boundedStatements(`INSERT INTO ${table} (grantee_kind, grantee, schema_name, table_name, privilege, columns, policies, run_id) VALUES `, rows, "", maxStatementBytes),
  ];
}
