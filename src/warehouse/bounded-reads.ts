import { compareStrings, type Dialect } from "../core/grants.js";
import { byteLength, quoteLiteral } from "../core/sql.js";
import type { Row, SqlExecutor } from "./executor.js";

/**
 * Reads whose SQL and results stay bounded however large the catalog: IN-lists cut into chunks that
 * keep a statement well under the Data API's 100 KB (aws-facts §5.3), and long results read in
 * pages by keyset (aws-facts §5.3: 64 KB a row, a result cap of 100-500 MB).
 */

/** Bytes of literals per IN-list chunk: two lists (schemas and grantees) and the rest of a statement stay under 100 KB. */
export const IN_LIST_BYTES = 45_000;
/**
 * Rows per page of a keyset-paged read. An inventory row is under 1 KB as the Data API returns it
 * (five or six names of at most 127 bytes, in JSON), so a page stays far under the 100 MB result
 * cap; 50k rows (about 8 MB in the bench) keeps the calls of a 100k-table read to a few hundred.
 */
export const PAGE_ROWS = 50_000;

/** `values` as quoted literal lists of at most `maxBytes` each (at least one value per list); [] for no values. */
export function literalChunks(values: readonly string[], dialect: Dialect, maxBytes = IN_LIST_BYTES): string[] {
  const literals = values.map((value) => quoteLiteral(value, dialect));
  return packInOrder(literals, (literal) => [byteLength(literal) + 2], [maxBytes]).map((chunk) => chunk.join(", "));
}

/**
 * Consecutive items in chunks, each within every limit (a cost per limit), a chunk closed when the
 * next item would pass one; an item over a limit on its own is a chunk of its own.
 */
function packInOrder<T>(items: readonly T[], costs: (item: T) => readonly number[], limits: readonly number[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let used = limits.map(() => 0);
  for (const item of items) {
    const cost = costs(item);
    if (current.length > 0 && cost.some((c, i) => used[i]! + c > limits[i]!)) {
      chunks.push(current);
      current = [];
      used = limits.map(() => 0);
    }
    current.push(item);
    used = used.map((u, i) => u + cost[i]!);
  }
  if (current.length > 0) chunks.push(current);
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
  await forEachKeysetPage(executor, query, pageRows, (page) => {
    for (const row of page) rows.push(row);
  });
  return rows;
}

/**
 * Hands each page of a keyset read to `onPage` as it arrives, so that a caller folding the rows
 * into something smaller never holds the whole result (at 100k tables, millions of rows).
 */
export async function forEachKeysetPage(executor: SqlExecutor, query: KeysetQuery, pageRows: number, onPage: (rows: readonly Row[]) => void): Promise<void> {
  let last: Row | undefined;
  for (;;) {
    const after = last === undefined ? "" : ` AND ${keysetAfter(query.keyExpressions, query.keys.map((k) => last![k]), executor.dialect)}`;
    const page = await executor.query(`${query.select}${after} ORDER BY ${query.keyExpressions.join(", ")} LIMIT ${pageRows}`);
    onPage(page);
    if (page.length < pageRows) return;
    last = page[page.length - 1];
  }
}

/**
 * `(a, b, c) > (x, y, z)` written out, for engines without row comparison, led by the redundant
 * `a >= x`: a condition on the first key alone, which a view can apply before it expands the rest
 * (the relation name reaches pg_class before any ACL is exploded), so a late page costs what is
 * left to read, not the whole view again.
 */
function keysetAfter(expressions: readonly string[], values: readonly unknown[], dialect: Dialect): string {
  const literal = (value: unknown): string => (typeof value === "number" ? String(value) : quoteLiteral(String(value ?? ""), dialect));
  const terms = expressions.map((expression, i) => {
    const equal = expressions.slice(0, i).map((e, k) => `${e} = ${literal(values[k])}`);
    return `(${[...equal, `${expression} > ${literal(values[i])}`].join(" AND ")})`;
  });
  return `${expressions[0]} >= ${literal(values[0])} AND (${terms.join(" OR ")})`;
}

export interface SchemaRows {
  readonly schema: string;
  readonly rows: number;
}

/**
 * Schemas grouped for reading, by the rows each holds (a census): consecutive schemas share a chunk
 * while their rows fit one page and their names fit one IN-list; a schema of a page or more is a
 * chunk of its own (read in pages). Schemas without rows are left out: there is nothing to read.
 */
export function schemaChunks(census: readonly SchemaRows[], dialect: Dialect, pageRows = PAGE_ROWS, maxBytes = IN_LIST_BYTES): string[][] {
  const withRows = census.filter((c) => c.rows > 0).sort((a, b) => compareStrings(a.schema, b.schema));
  return packInOrder(withRows, (c) => [c.rows, byteLength(quoteLiteral(c.schema, dialect)) + 2], [pageRows, maxBytes]).map((chunk) => chunk.map((c) => c.schema));
}
