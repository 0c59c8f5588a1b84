/**
 * Redshift SQL as tokens, and back to PostgreSQL text. Two lexical rules differ:
 * - Delimited identifiers: ASCII letters fold to lower case unless enable_case_sensitive_identifier
 *   is on (default off), and hold printable characters only,
 *   https://docs.aws.amazon.com/redshift/latest/dg/r_names.html (aws-facts §6.5).
 * - String literals: backslash escapes the next character inside '...'
 *   (https://docs.aws.amazon.com/redshift/latest/dg/r_Literals.html); PostgreSQL reads it literally.
 * An `E'...'` literal is kept as its own kind so that the reject list can refuse it.
 */
export type TokenKind = "word" | "quoted" | "string" | "estring" | "number" | "op" | "space" | "param" | "dollar";

export interface Token {
  readonly kind: TokenKind;
  /** The text as written. */
  readonly text: string;
  /** word: lower-cased; quoted: the folded name; string: the value; else the text. */
  readonly value: string;
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isWordStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isWordPart = (c: number): boolean => isWordStart(c) || isDigit(c) || c === 36;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const end = tokenEnd(sql, i);
    tokens.push(tokenOf(sql.slice(i, end)));
    i = end;
  }
  return tokens;
}

/** Where the token at `start` ends (charCode loops: this runs over every state row a run writes). */
function tokenEnd(sql: string, start: number): number {
  const c = sql.charCodeAt(start);
  const next = sql.charCodeAt(start + 1);
  if (isSpace(c)) return scan(sql, start + 1, isSpace);
  if (c === 45 && next === 45) return lineEnd(sql, start);
  if (c === 47 && next === 42) return blockEnd(sql, start);
  if (c === 39) return quoteEnd(sql, start, 39, true);
  if ((c === 69 || c === 101) && next === 39) return quoteEnd(sql, start + 1, 39, true);
  if (c === 34) return quoteEnd(sql, start, 34, false);
  if (c === 36 && isDigit(next)) return scan(sql, start + 1, isDigit);
  if (c === 36) return dollarEnd(sql, start);
  if (isWordStart(c)) return scan(sql, start + 1, isWordPart);
  if (isDigit(c) || (c === 46 && isDigit(next))) return scan(sql, start + 1, (k) => isDigit(k) || k === 46 || k === 69 || k === 101);
  if (c === 58 && next === 58) return start + 2;
  return start + 1;
}

function tokenOf(text: string): Token {
  const c = text.charCodeAt(0);
  if (isSpace(c) || text.startsWith("--") || text.startsWith("/*")) return { kind: "space", text, value: text };
  if (c === 39) return { kind: "string", text, value: unescapeString(text.slice(1, -1)) };
  if ((c === 69 || c === 101) && text.charCodeAt(1) === 39) return { kind: "estring", text, value: text };
  if (c === 34) return { kind: "quoted", text, value: foldAscii(holdableName(text.slice(1, -1).replaceAll('""', '"'))) };
  if (c === 36 && text.length > 1) return { kind: isDigit(text.charCodeAt(1)) ? "param" : "dollar", text, value: text };
  if (isWordStart(c)) return { kind: "word", text, value: text.length > 63 ? holdableName(text).toLowerCase() : text.toLowerCase() };
  if (isDigit(c) || (c === 46 && text.length > 1)) return { kind: "number", text, value: text };
  return { kind: "op", text, value: text };
}

function scan(sql: string, i: number, test: (c: number) => boolean): number {
  while (i < sql.length && test(sql.charCodeAt(i))) i++;
  return i;
}

function lineEnd(sql: string, start: number): number {
  const i = sql.indexOf("\n", start);
  return i < 0 ? sql.length : i;
}

function blockEnd(sql: string, start: number): number {
  const i = sql.indexOf("*/", start + 2);
  if (i < 0) throw new Error("unterminated /* comment");
  return i + 2;
}

function quoteEnd(sql: string, start: number, quote: number, backslash: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (backslash && c === 92) i += 2;
    else if (c === quote && sql.charCodeAt(i + 1) === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  throw new Error(`unterminated quoted ${quote === 39 ? "string" : "identifier"} at or near "${sql.slice(start, start + 20)}"`);
}

function dollarEnd(sql: string, start: number): number {
  const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(start, start + 64))?.[0];
  if (tag === undefined) return start + 1;
  const close = sql.indexOf(tag, start + tag.length);
  if (close < 0) throw new Error("unterminated dollar-quoted string");
  return close + tag.length;
}

/** Redshift: `''` is a quote, and a backslash takes the next character as it is. */
function unescapeString(body: string): string {
  if (!body.includes("\\") && !body.includes("'")) return body;
  return body.replace(/''|\\(.)/gs, (match: string, escaped: string | undefined) => (match === "''" ? "'" : escaped!));
}

// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * "Identifiers must consist of only UTF-8 printable characters" and are 1 to 127 bytes long (r_names):
 * PostgreSQL would take a tab. PostgreSQL also cuts names at 63 bytes (NAMEDATALEN) without an error,
 * so two long names would become one here: a name of 64 to 127 bytes, which Redshift holds, is refused
 * as something this endpoint cannot hold rather than truncated.
 */
function holdableName(name: string): string {
  if (NOT_PRINTABLE.test(name)) throw new Error(`invalid identifier ${JSON.stringify(name)}: identifiers must consist of only UTF-8 printable characters`);
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > 127) throw new Error(`identifier ${JSON.stringify(name.slice(0, 40))}... is ${bytes} bytes: identifiers are 1 to 127 bytes long`);
  if (bytes > 63) throw new Error(`identifier ${JSON.stringify(name.slice(0, 40))}... is ${bytes} bytes: Redshift holds it, but this local endpoint cannot (PostgreSQL truncates names at 63 bytes)`);
  return name;
}

export function foldAscii(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

export function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A PostgreSQL literal with standard_conforming_strings on: only quotes are doubled. */
export function pgString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** PostgreSQL text for tokens: folded identifiers, literals re-quoted. */
export function render(tokens: readonly Token[]): string {
  return tokens.map(renderToken).join("");
}

export function renderToken(token: Token): string {
  if (token.kind === "quoted") return quoteName(token.value);
  // Without a quote or backslash inside, Redshift's text is PostgreSQL's.
  if (token.kind === "string") return token.text.length === token.value.length + 2 ? token.text : pgString(token.value);
  return token.text;
}

/** Tokens without whitespace and comments. */
export function solid(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== "space");
}

export function isWord(token: Token | undefined, ...values: string[]): boolean {
  return token !== undefined && token.kind === "word" && (values.length === 0 || values.includes(token.value));
}

export function isOp(token: Token | undefined, text: string): boolean {
  return token !== undefined && token.kind === "op" && token.text === text;
}

/** The name a word or quoted token stands for. */
export function nameOf(token: Token | undefined): string | null {
  if (token === undefined) return null;
  if (token.kind === "word") return token.value;
  if (token.kind === "quoted") return token.value;
  return null;
}
