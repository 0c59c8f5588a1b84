import { compareStrings, type RecordedGrant } from "../core/grants.js";
import { byteLength, quoteIdent, quoteLiteral } from "../core/sql.js";
import { literalChunks } from "./bounded-reads.js";
import type { SqlExecutor } from "./executor.js";
import { readGrantSlotRows, recordedGrantsOf, stateTableExists } from "./state-store.js";
import { tableToken } from "./state/table-lists.js";

/** Objects of an incremental run's scope, in Redshift names: schema-level rows of `schemas`, every row of `tables`. */
export interface StateScope {
  readonly schemas: readonly string[];
  readonly tables: readonly { readonly schema: string; readonly table: string }[];
}

/** Bytes of table names per query: keeps each statement far below the Data API's 100 KB. */
const TABLE_BYTES_PER_QUERY = 20_000;

/** `schema_name = s AND (POSITION('"t1"' IN tables) > 0 OR ...)`: the rows listing any of the tables (table-lists.ts). */
function tableConditions(executor: SqlExecutor, schema: string, tables: readonly string[]): string[] {
  const d = executor.dialect;
  const conditions: string[] = [];
  let terms: string[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (terms.length > 0) conditions.push(`schema_name = ${quoteLiteral(schema, d)} AND (${terms.join(" OR ")})`);
    terms = [];
    bytes = 0;
  };
  for (const table of tables) {
    const term = `POSITION(${quoteLiteral(tableToken(table), d)} IN tables) > 0`;
    if (bytes + byteLength(term) > TABLE_BYTES_PER_QUERY) flush();
    terms.push(term);
    bytes += byteLength(term) + 4;
  }
  flush();
  return conditions;
}

/**
 * The recorded grants of some objects only (an incremental run reads its scope, not the whole
 * state), and how many slots the whole state records (the revoke ratio is a share of all of them).
 * A row lists many tables: the rows listing a scope table are read (paged) and only the scope's
 * slots are kept.
 */
export async function readRecordedScope(
  executor: SqlExecutor,
  stateSchema: string,
  scope: StateScope,
): Promise<{ readonly grants: RecordedGrant[]; readonly total: number }> {
  if (!(await stateTableExists(executor, stateSchema, "grant_slots"))) return { grants: [], total: 0 };
  const conditions = literalChunks(scope.schemas, executor.dialect).map((list) => `tables IS NULL AND schema_name IN (${list})`);
  const bySchema = new Map<string, string[]>();
  for (const { schema, table } of scope.tables) bySchema.set(schema, [...(bySchema.get(schema) ?? []), table]);
  for (const schema of [...bySchema.keys()].sort(compareStrings)) conditions.push(...tableConditions(executor, schema, bySchema.get(schema)!));
  // Only part 0 of a split column list counts its slots (migrations/0001); each listed name is two `"`.
  const counting = `SELECT SUM(CASE WHEN tables IS NULL THEN 1 ELSE (LENGTH(tables) - LENGTH(REPLACE(tables, '"', ''))) / 2 END) AS slots FROM ${quoteIdent(stateSchema)}.grant_slots WHERE part = 0`;
  const [counted, ...parts] = await Promise.all([executor.query(counting), ...conditions.map((where) => readGrantSlotRows(executor, stateSchema, undefined, where))]);
  const wanted = new Set(scope.tables.map(({ schema, table }) => JSON.stringify([schema, table])));
  const schemas = new Set(scope.schemas);
  const inScope = (g: RecordedGrant): boolean => (g.object.table === null ? schemas.has(g.object.schema) : wanted.has(JSON.stringify([g.object.schema, g.object.table])));
  const rows = [...new Map(parts.flat().map((row) => [JSON.stringify(row), row])).values()];
  return { grants: recordedGrantsOf(rows).filter(inScope), total: Number(counted?.[0]?.slots ?? 0) };
}
