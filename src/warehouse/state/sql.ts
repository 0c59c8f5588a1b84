import type { Dialect } from "../../core/grants.js";
import { byteLength, quoteLiteral } from "../../core/sql.js";
import { SyncError } from "../../errors.js";
import type { Row, SqlExecutor, SqlValue } from "../executor.js";

/**
 * What every part of the state schema (DESIGN §4.3, migrations/) shares: literals, bounded
 * statements and the readers of result rows. All SQL is valid in both dialects; timestamps come
 * from the caller's Date, never the database clock, so what is written is reproducible.
 */

export const DEFAULT_MAX_STATEMENT_BYTES = 100_000;

/** `'2026-11-23 19:00:00.000'::TIMESTAMP` in UTC: TIMESTAMP has no zone in either dialect. */
export function timestampLiteral(at: Date, dialect: Dialect): string {
  return `${quoteLiteral(at.toISOString().replace("T", " ").replace("Z", ""), dialect)}::TIMESTAMP`;
}

/** A table of the state schema, looked up in the catalogs both dialects have (pg_class, pg_namespace). */
export async function stateTableExists(executor: SqlExecutor, stateSchema: string, table: string): Promise<boolean> {
  const d = executor.dialect;
  const rows = await executor.query(
    `SELECT 1 AS present FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${quoteLiteral(stateSchema, d)} AND c.relname = ${quoteLiteral(table, d)}`,
  );
  return rows.length > 0;
}

/**
 * Statements `prefix item<sep>item... suffix`, each at most `maxBytes` UTF-8 bytes. An item that
 * cannot fit even alone is an error rather than a statement the target would reject.
 */
export function boundedStatements(prefix: string, items: readonly string[], suffix: string, maxBytes: number, separator = ", "): string[] {
  const statements: string[] = [];
  const fixed = byteLength(prefix) + byteLength(suffix);
  const gap = byteLength(separator);
  let current: string[] = [];
  let size = fixed;
  for (const item of items) {
    const bytes = byteLength(item);
    if (fixed + bytes > maxBytes) {
      throw new SyncError("TARGET_FAILED", `a state row of ${bytes} bytes does not fit in a statement of ${maxBytes} bytes: ${item.slice(0, 200)}`);
    }
    if (current.length > 0 && size + gap + bytes > maxBytes) {
      statements.push(`${prefix}${current.join(separator)}${suffix}`);
      current = [];
      size = fixed;
    }
    size += (current.length > 0 ? gap : 0) + bytes;
    current.push(item);
  }
  if (current.length > 0) statements.push(`${prefix}${current.join(separator)}${suffix}`);
  return statements;
}

export function truncateBytes(text: string, maxBytes: number): string {
  if (byteLength(text) <= maxBytes) return text;
  const cut = Buffer.from(text, "utf8").subarray(0, maxBytes - 3).toString("utf8").replace(/\uFFFD$/, "");
  return `${cut}...`;
}

export function integerLiteral(value: number | null): string {
  if (value === null) return "NULL";
  if (!Number.isSafeInteger(value)) throw new SyncError("TARGET_FAILED", `${value} is not an integer for the state schema`);
  return String(value);
}

export function stringOf(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") {
    throw new SyncError("TARGET_FAILED", `state schema row has ${JSON.stringify(value)} in ${column}`);
  }
  return value;
}

export function nullableString(row: Row, column: string): string | null {
  return row[column] === null || row[column] === undefined ? null : stringOf(row, column);
}

export function numberOrNull(value: SqlValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Timestamps as ISO strings, whether the adapter parsed them (ISO) or passed them as text (`2026-11-23 19:00:00`, UTC). */
export function isoTimestamp(value: SqlValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  const date = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) ? text : `${text.replace(" ", "T")}Z`);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}
