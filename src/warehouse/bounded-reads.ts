import type { Dialect } from "../core/grants.js";
import { byteLength, quoteLiteral } from "../core/sql.js";
import type { Row, SqlExecutor } from "./executor.js";

/**
 * Reads whose SQL and results stay bounded however large the catalog: IN-lists cut into chunks that
 * keep a statement well under the Data API's 100 KB (aws-facts §5.3), and long results read in
 * pages by keyset (aws-facts §5.3: 64 KB a row, a result cap of 100-500 MB).
 */

/** Bytes of literals per IN-list chunk: two lists (schemas and grantees) and the rest of a statement stay under 100 KB. */
export const IN_LIST_BYTES = 45_000;
/** Rows per page of a keyset-paged read. */
export const PAGE_ROWS = 20_000;

/** `values` as quoted literal lists of at most `maxBytes` each (at least one value per list); [] for no values. */
export function literalChunks(values: readonly string[], dialect: Dialect, maxBytes = IN_LIST_BYTES): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const value of values) {
    const literal = quoteLiteral(value, dialect);
    const size = byteLength(literal) + 2;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current.join(", "));
      current = [];
      bytes = 0;
    }
    current.push(literal);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current.join(", "));
  return chunks;
}

export interface KeysetQuery {
  /** `SELECT ... FROM ... WHERE <condition>`: the page condition is ANDed to it, ORDER BY and LIMIT appended. */
  readonly select: string;
  /** Output columns that order the rows and identify each one (together unique). */
  readonly keys: readonly string[];
  /** The SQL expression of each key, as the WHERE clause must name it. */
  readonly keyExpressions: readonly string[];
}

/** Every row of a query, `pageRows` at a time, each page after the last row of the one before. */
export async function readKeyset(executor: SqlExecutor, query: KeysetQuery, pageRows = PAGE_ROWS): Promise<Row[]> {
  const rows: Row[] = [];
  let last: Row | undefined;
  for (;;) {
    const after = last === undefined ? "" : ` AND ${keysetAfter(query.keyExpressions, query.keys.map((k) => last![k]), executor.dialect)}`;
    const page = await executor.query(`${query.select}${after} ORDER BY ${query.keyExpressions.join(", ")} LIMIT ${pageRows}`);
    for (const row of page) rows.push(row);
    if (page.length < pageRows) return rows;
    last = page[page.length - 1];
  }
}

/** `(a, b, c) > (x, y, z)` written out, for engines without row comparison. */
function keysetAfter(expressions: readonly string[], values: readonly unknown[], dialect: Dialect): string {
  const literal = (value: unknown): string => (typeof value === "number" ? String(value) : quoteLiteral(String(value ?? ""), dialect));
  const terms = expressions.map((expression, i) => {
    const equal = expressions.slice(0, i).map((e, k) => `${e} = ${literal(values[k])}`);
    return `(${[...equal, `${expression} > ${literal(values[i])}`].join(" AND ")})`;
  });
  return `(${terms.join(" OR ")})`;
}
