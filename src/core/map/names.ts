import type { MappingConfig } from "../../config/schema.js";
import { type Diagnostic, error } from "../diagnostics.js";
import { compareStrings, type Dialect } from "../grants.js";

/** Identifier limits in bytes (DESIGN §3): longer names are errors, never truncated. */
export const MAX_IDENTIFIER_BYTES: Record<Dialect, number> = { redshift: 127, postgres: 63 };

/**
 * A name as the dialect stores it: Redshift folds ASCII letters to lower case, even in quoted
 * identifiers (aws-facts §6.5, trap 9); PostgreSQL keeps quoted names as they are.
 */
export function foldName(name: string, dialect: Dialect): string {
  return dialect === "redshift" ? name.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : name;
}

/**
 * Control characters (C0, DEL, C1) and lone surrogates (not UTF-8 at all): "Identifiers must consist
 * of only UTF-8 printable characters" (Redshift r_names, aws-facts §6.5). Glue's name pattern admits a tab.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a folded name cannot be an identifier of the dialect, or null when it can (never truncated). */
export function invalidNameReason(folded: string, dialect: Dialect): string | null {
  if (folded.length === 0) return "is empty";
  if (folded.includes("\u0000")) return "contains NUL";
  if (dialect === "redshift" && NOT_PRINTABLE.test(folded)) return "contains a character that is not printable (Redshift identifiers are UTF-8 printable characters only)";
  // r_Character_types: "Trailing spaces in VARCHAR and CHAR values are treated as semantically insignificant when values are compared":
  // 'a ' = 'a' in every lookup of the state schema and the SVV views, so such a name would be confused with another.
  if (dialect === "redshift" && folded.endsWith(" ")) return "ends with a space, which Redshift ignores when it compares names";
  const max = MAX_IDENTIFIER_BYTES[dialect];
  return Buffer.byteLength(folded, "utf8") > max ? `is longer than ${max} bytes (the ${dialect} limit)` : null;
}

/** A Glue name as the dialect stores it, or null when it cannot be a name there. */
export function foldIdentifier(name: string, dialect: Dialect): string | null {
  const folded = foldName(name, dialect);
  return invalidNameReason(folded, dialect) === null ? folded : null;
}

export interface IdentifierMapper {
  /** The name in the dialect, or null, reporting `what()` once as an error when null. */
  readonly nameOf: (name: string, what: () => string) => string | null;
  /** The same without reporting. */
  readonly fold: (name: string) => string | null;
  /** Whether the dialect stores the name otherwise (Redshift: it has ASCII capitals), so two names may become one. */
  readonly changes: (name: string) => boolean;
  /** Whether a folded column name is one of the dialect's system columns, which no table can have. */
  readonly isSystemColumn: (folded: string) => boolean;
}

/**
 * "The following PostgreSQL system column names can't be used as column names in user-defined
 * columns" (Redshift r_names: oid, tableoid, xmin, cmin, xmax, cmax, ctid); PostgreSQL 12 and later
 * no longer reserve oid.
 */
const SYSTEM_COLUMNS: Readonly<Record<Dialect, ReadonlySet<string>>> = {
  redshift: new Set(["oid", "tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"]),
  postgres: new Set(["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"]),
};

export function identifierMapper(dialect: Dialect, diagnostics: Diagnostic[]): IdentifierMapper {
  const max = MAX_IDENTIFIER_BYTES[dialect];
  const reported = new Set<string>();
  // Names repeat across principals (one table, many grantees): map each distinct name once.
  const cache = new Map<string, string | null>();
  const fold = (name: string): string | null => {
    let mapped = cache.get(name);
    if (mapped === undefined) {
      mapped = foldIdentifier(name, dialect);
      cache.set(name, mapped);
    }
    return mapped;
  };
  const nameOf = (name: string, what: () => string): string | null => {
    const mapped = fold(name);
    if (mapped === null) {
      const where = what();
      if (!reported.has(where)) {
        reported.add(where);
        const reason = invalidNameReason(foldName(name, dialect), dialect) ?? `is longer than ${max} bytes (the ${dialect} limit)`;
        diagnostics.push(error(`${where}: name ${JSON.stringify(name)} ${reason}: skipped, never truncated`));
      }
    }
    return mapped;
  };
  const changes = dialect === "redshift" ? (name: string): boolean => /[A-Z]/.test(name) : (): boolean => false;
  const system = SYSTEM_COLUMNS[dialect];
  return { nameOf, fold, changes, isSystemColumn: (folded) => system.has(folded) };
}

/** Glue database -> Redshift schema name before folding, or null when the database is not included. */
export function schemaMapper(mapping: MappingConfig): (database: string) => string | null {
  const isIncluded = globMatcher(mapping.databases.include);
  const isExcluded = globMatcher(mapping.databases.exclude);
  const cache = new Map<string, string | null>();
  return (database) => {
    let schema = cache.get(database);
    if (schema === undefined) {
      schema = !isIncluded(database) || isExcluded(database) ? null : Object.hasOwn(mapping.databases.rename, database) ? mapping.databases.rename[database]! : database;
      cache.set(database, schema);
    }
    return schema;
  };
}

/**
 * `*` (any run of characters) and `?` (one character) over whole Glue names. Glue names may contain
 * `/`, which path-glob libraries treat as a separator that `*` cannot cross.
 */
export function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const body = patterns
    .map((p) => [...p].map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&"))).join(""))
    .join("|");
  const regex = new RegExp(`^(?:${body})$`, "su");
  return (name) => regex.test(name);
}

/** compareStrings with null (invalid names, dropped later) last. */
export function compareNullable(a: string | null, b: string | null): number {
  return a === null ? (b === null ? 0 : 1) : b === null ? -1 : compareStrings(a, b);
}
