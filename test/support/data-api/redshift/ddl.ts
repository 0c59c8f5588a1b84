/**
 * DDL that Redshift writes differently:
 * - TEXT becomes VARCHAR(256), and so does VARCHAR without a length
 *   (https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html);
 * - CREATE EXTERNAL SCHEMA ... FROM DATA CATALOG: a schema listed in svv_external_schemas
 *   (r_CREATE_EXTERNAL_SCHEMA.html); CREATE EXTERNAL TABLE: a table in it, refused inside a
 *   transaction block (r_CREATE_EXTERNAL_TABLE.html);
 * - CREATE VIEW ... WITH NO SCHEMA BINDING: a late-binding view (r_CREATE_VIEW.html).
 */
import type { StatementContext } from "../mode.js";
import { SHIM } from "./catalog.js";
import { isOp, isWord, nameOf, pgString, quoteName, render, type Token } from "./tokens.js";

const VARCHAR_256: Token = { kind: "word", text: "VARCHAR(256)", value: "varchar(256)" };

/** PostgreSQL statements for DDL that needs translating; null for any other statement. */
export function ddlStatements(tokens: readonly Token[], t: readonly Token[], context: StatementContext): string[] | null {
  if (isWord(t[0], "create") && isWord(t[1], "external") && isWord(t[2], "schema")) return externalSchema(t);
  if (isWord(t[0], "create") && isWord(t[1], "external") && isWord(t[2], "table")) return externalTable(tokens, context);
  if (isWord(t[0], "create", "alter") && isWord(t[1], "table")) return [render(characterTypes(tokens))];
  if (isWord(t[0], "create") && (isWord(t[1], "view") || (isWord(t[1], "or") && isWord(t[3], "view")))) return view(tokens, t);
  return null;
}

function characterTypes(tokens: readonly Token[]): Token[] {
  return tokens.map((token, i) => {
    if (isWord(token, "text")) return VARCHAR_256;
    if (isWord(token, "varchar", "string") && !isOp(nextSolid(tokens, i), "(")) return VARCHAR_256;
    return token;
  });
}

function nextSolid(tokens: readonly Token[], i: number): Token | undefined {
  for (let k = i + 1; k < tokens.length; k++) if (tokens[k]!.kind !== "space") return tokens[k];
  return undefined;
}

/** CREATE EXTERNAL SCHEMA [IF NOT EXISTS] s FROM DATA CATALOG DATABASE 'db' ... */
function externalSchema(t: readonly Token[]): string[] {
  const ifNotExists = isWord(t[3], "if");
  const schema = nameOf(t[ifNotExists ? 6 : 3]);
  if (schema === null) throw new Error("CREATE EXTERNAL SCHEMA: schema name expected");
  const databaseAt = t.findIndex((token) => isWord(token, "database"));
  const database = databaseAt >= 0 && t[databaseAt + 1]?.kind === "string" ? t[databaseAt + 1]!.value : schema;
  return [
    `CREATE SCHEMA ${ifNotExists ? "IF NOT EXISTS " : ""}${quoteName(schema)}`,
    `INSERT INTO ${SHIM}.external_schemas (nspoid, databasename, options)
      SELECT oid, ${pgString(database)}, NULL FROM pg_namespace WHERE nspname = ${pgString(schema)} ON CONFLICT DO NOTHING`,
  ];
}

/** CREATE EXTERNAL TABLE s.t (columns) ...: the column list is kept, the storage clauses dropped. */
function externalTable(tokens: readonly Token[], context: StatementContext): string[] {
  if (context.inTransaction) throw new Error("CREATE EXTERNAL TABLE cannot run inside a transaction block");
  const open = tokens.findIndex((token) => isOp(token, "("));
  let depth = 0;
  let close = -1;
  for (let i = open; i < tokens.length && close < 0; i++) {
    if (isOp(tokens[i], "(")) depth++;
    if (isOp(tokens[i], ")") && --depth === 0) close = i;
  }
  if (open < 0 || close < 0) throw new Error("CREATE EXTERNAL TABLE: column list expected");
  const head = tokens.slice(0, open).filter((token) => !isWord(token, "external"));
  return [render(characterTypes([...head, ...tokens.slice(open, close + 1)]))];
}

/** CREATE [OR REPLACE] VIEW v AS ... [WITH NO SCHEMA BINDING] */
function view(tokens: readonly Token[], t: readonly Token[]): string[] {
  const n = t.length - (isOp(t[t.length - 1], ";") ? 1 : 0);
  const lateBinding = isWord(t[n - 4], "with") && isWord(t[n - 3], "no") && isWord(t[n - 2], "schema") && isWord(t[n - 1], "binding");
  if (!lateBinding) return [render(tokens)];
  const withAt = tokens.lastIndexOf(t[n - 4]!);
  const name = t.findIndex((token) => isWord(token, "view")) + 1;
  const qualified = isOp(t[name + 1], ".") ? `${quoteName(nameOf(t[name])!)}.${quoteName(nameOf(t[name + 2])!)}` : quoteName(nameOf(t[name])!);
  return [
    render(tokens.slice(0, withAt)),
    `INSERT INTO ${SHIM}.late_binding_views (relid) VALUES (${pgString(qualified)}::regclass) ON CONFLICT DO NOTHING`,
  ];
}
