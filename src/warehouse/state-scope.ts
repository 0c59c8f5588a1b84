import { compareStrings, type RecordedGrant } from "../core/grants.js";
import { quoteIdent, quoteLiteral } from "../core/sql.js";
import type { SqlExecutor } from "./executor.js";
import { GRANT_SLOT_COLUMNS, recordedGrantsOf, stateTableExists } from "./state-store.js";

/** Objects of an incremental run's scope, in Redshift names: schema-level rows of `schemas`, every row of `tables`. */
export interface StateScope {
  readonly schemas: readonly string[];
  readonly tables: readonly { readonly schema: string; readonly table: string }[];
}

/** Tables per query: keeps each statement far below the Data API's 100 KB. */
const TABLES_PER_QUERY = 500;

/**
 * The recorded grants of some objects only (an incremental run reads its scope, not the whole
 * state), and how many slots the whole state records (the revoke ratio is a share of all of them).
 */
export async function readRecordedScope(
  executor: SqlExecutor,
  stateSchema: string,
  scope: StateScope,
): Promise<{ readonly grants: RecordedGrant[]; readonly total: number }> {
  if (!(await stateTableExists(executor, stateSchema, "grant_slots"))) return { grants: [], total: 0 };
  const d = executor.dialect;
  const from = `${quoteIdent(stateSchema)}.grant_slots`;
  const select = `SELECT ${GRANT_SLOT_COLUMNS} FROM ${from} WHERE `;
  const list = (values: readonly string[]) => values.map((v) => quoteLiteral(v, d)).join(", ");
  const queries: string[] = [];
  if (scope.schemas.length > 0) queries.push(`${select}table_name IS NULL AND schema_name IN (${list(scope.schemas)})`);
  const bySchema = new Map<string, string[]>();
  for (const { schema, table } of scope.tables) bySchema.set(schema, [...(bySchema.get(schema) ?? []), table]);
  for (const schema of [...bySchema.keys()].sort(compareStrings)) {
    const tables = bySchema.get(schema)!;
    for (let i = 0; i < tables.length; i += TABLES_PER_QUERY) {
      queries.push(`${select}schema_name = ${quoteLiteral(schema, d)} AND table_name IN (${list(tables.slice(i, i + TABLES_PER_QUERY))})`);
    }
  }
  const [counted, ...parts] = await Promise.all([
    executor.query(`SELECT COUNT(*) AS slots FROM (SELECT DISTINCT grantee_kind, grantee, schema_name, table_name, privilege FROM ${from}) s`),
    ...queries.map((sql) => executor.query(sql)),
  ]);
  return { grants: recordedGrantsOf(parts.flat()), total: Number(counted?.[0]?.slots ?? 0) };
}
