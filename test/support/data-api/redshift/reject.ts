/**
 * PostgreSQL syntax Redshift does not have. Each entry cites the Redshift page that says so; a
 * statement using one fails as Redshift would fail it, instead of working on the PostgreSQL below.
 */
import { isOp, isWord, solid, type Token } from "./tokens.js";

const DG = "https://docs.aws.amazon.com/redshift/latest/dg";

/** Functions PostgreSQL has and Redshift lacks (r_unsupported-postgresql-functions, c_SQL_functions). */
const POSTGRES_ONLY_FUNCTIONS = new Set([
  "array_agg", "array_to_string", "string_to_array", "array_length", "array_append", "unnest", "string_agg",
  "to_json", "to_jsonb", "row_to_json", "json_agg", "jsonb_agg", "json_build_object", "jsonb_build_object",
  "json_build_array", "jsonb_build_array", "json_object_agg", "jsonb_object_agg", "jsonb_set", "jsonb_each", "json_each",
  "jsonb_array_elements", "json_array_elements", "to_regclass", "to_regrole", "to_regnamespace", "regexp_split_to_table",
  "regexp_split_to_array", "generate_subscripts", "format", "gen_random_uuid", "aclexplode", "pg_has_role", "jsonb_typeof",
]);

interface Rule {
  readonly test: (tokens: readonly Token[], i: number) => boolean;
  readonly message: (token: Token) => string;
}

const RULES: readonly Rule[] = [
  // r_Literals: no escape-string (E'') syntax.
  { test: (t, i) => t[i]!.kind === "estring", message: (t) => `syntax error at or near "${t.text.slice(0, 20)}" (no E'' literals: ${DG}/r_Literals.html)` },
  // c_Supported_data_types: no JSON/JSONB (Redshift has SUPER) and no arrays.
  { test: (t, i) => isWord(t[i], "json", "jsonb"), message: (t) => `type "${t.value}" does not exist (${DG}/c_Supported_data_types.html)` },
  { test: (t, i) => isOp(t[i], "[") || isWord(t[i], "array"), message: () => `arrays are not supported (${DG}/c_unsupported-postgresql-datatypes.html)` },
  // c_unsupported-postgresql-datatypes: SERIAL; use IDENTITY.
  { test: (t, i) => isWord(t[i], "serial", "bigserial", "smallserial", "serial4", "serial8"), message: (t) => `type "${t.value}" does not exist (${DG}/c_unsupported-postgresql-datatypes.html)` },
  // r_INSERT_30: no ON CONFLICT; no RETURNING (c_unsupported-postgresql-features).
  { test: (t, i) => isWord(t[i], "on") && isWord(t[i + 1], "conflict"), message: () => `syntax error at or near "CONFLICT" (${DG}/r_INSERT_30.html)` },
  { test: (t, i) => isWord(t[i], "returning"), message: () => `syntax error at or near "RETURNING" (${DG}/c_unsupported-postgresql-features.html)` },
  // c_unsupported-postgresql-features: no indexes.
  {
    test: (t, i) => i === 0 && isWord(t[0], "create") && (isWord(t[1], "index") || (isWord(t[1], "unique") && isWord(t[2], "index"))),
    message: () => `CREATE INDEX is not supported (${DG}/c_unsupported-postgresql-features.html)`,
  },
  {
    test: (t, i) => t[i]!.kind === "word" && POSTGRES_ONLY_FUNCTIONS.has(t[i]!.value) && isOp(t[i + 1], "(") && !isOp(t[i - 1], "."),
    message: (t) => `function ${t.value} does not exist (${DG}/c_unsupported-postgresql-functions.html)`,
  },
  { test: (t, i) => isWord(t[i], "distinct") && isWord(t[i + 1], "on"), message: () => `syntax error at or near "ON" (${DG}/r_SELECT_list.html)` },
];

/** Words some rule starts at; any other word, and any literal, is skipped at once (state rows are long). */
const TRIGGERS = new Set(["json", "jsonb", "array", "serial", "bigserial", "smallserial", "serial4", "serial8", "on", "returning", "create", "distinct", ...POSTGRES_ONLY_FUNCTIONS]);

/** The error text for the first PostgreSQL-only construct, or null. */
export function postgresOnly(tokens: readonly Token[]): string | null {
  const t = solid(tokens);
  for (let i = 0; i < t.length; i++) {
    const token = t[i]!;
    const candidate = token.kind === "estring" || (token.kind === "word" && TRIGGERS.has(token.value)) || (token.kind === "op" && token.text === "[");
    if (!candidate) continue;
    for (const rule of RULES) if (rule.test(t, i)) return rule.message(token);
  }
  return null;
}
