import { SyncError } from "../errors.js";
import type { Dialect } from "./grants.js";

/**
 * The ONE function that turns a name into SQL. Catalog names are untrusted input: always delimit,
 * double embedded quotes, never reject a printable name (kysely's sanitizeIdentifier does the same).
 * NUL cannot be stored in either database, so it is refused rather than silently cut.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes("\u0000")) {
    throw new SyncError("NAME_INVALID", `identifier ${JSON.stringify(name)} is empty or contains NUL`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"` from parts, each quoted by quoteIdent. */
export function qualifiedName(...parts: readonly string[]): string {
  return parts.map(quoteIdent).join(".");
}

/**
 * String literal for state rows. Redshift reads backslash as an escape inside '...', so it is
 * doubled there; PostgreSQL gets an E'' literal, which means the same whatever
 * standard_conforming_strings says.
 */
// NUL is refused below; the pattern finds it so the fast path never skips that check.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\\'\u0000]/;

export function quoteLiteral(value: string, dialect: Dialect): string {
  // Fast path: most names need no escaping (millions of state rows on a first apply).
  if (!NEEDS_ESCAPE.test(value)) return dialect === "postgres" ? `E'${value}'` : `'${value}'`;
  if (value.includes("\u0000")) {
    throw new SyncError("NAME_INVALID", `text value ${JSON.stringify(value)} contains NUL`);
  }
  const escaped = value.replaceAll("\\", "\\\\").replaceAll("'", "''");
  return dialect === "postgres" ? `E'${escaped}'` : `'${escaped}'`;
}

/** Literal or NULL. */
export function quoteNullable(value: string | null, dialect: Dialect): string {
  return value === null ? "NULL" : quoteLiteral(value, dialect);
}

/** Byte length as the Data API counts it (UTF-8). */
export function byteLength(sql: string): number {
  return Buffer.byteLength(sql, "utf8");
}
