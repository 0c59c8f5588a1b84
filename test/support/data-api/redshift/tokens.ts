/**
 * Redshift SQL as tokens, and back to PostgreSQL text. Two lexical rules differ:
 * - Delimited identifiers: ASCII letters fold to lower case unless enable_case_sensitive_identifier
 *   is on (default off), https://docs.aws.amazon.com/redshift/latest/dg/r_names.html (aws-facts §6.5).
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

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const end = tokenEnd(sql, i);
    tokens.push(tokenAt(sql, i, end));
    i = end;
  }
  return tokens;
}

function tokenEnd(sql: string, start: number): number {
  const c = sql[start]!;
  const next = sql[start + 1];
  if (/\s/.test(c)) return scanWhile(sql, start, (ch) => /\s/.test(ch));
  if (c === "-" && next === "-") return lineEnd(sql, start);
  if (c === "/" && next === "*") return blockEnd(sql, start);
  if (c === "'") return quoteEnd(sql, start, "'", true);
  if ((c === "E" || c === "e") && next === "'") return quoteEnd(sql, start + 1, "'", true);
  if (c === '"') return quoteEnd(sql, start, '"', false);
  if (c === "$" && /[0-9]/.test(next ?? "")) return scanWhile(sql, start + 1, (ch) => /[0-9]/.test(ch));
  if (c === "$") return dollarEnd(sql, start);
  if (WORD_START.test(c)) return scanWhile(sql, start, (ch) => WORD_PART.test(ch));
  if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) return scanWhile(sql, start, (ch) => /[0-9.eE]/.test(ch));
  if (c === ":" && next === ":") return start + 2;
  return start + 1;
}

function tokenAt(sql: string, start: number, end: number): Token {
  const text = sql.slice(start, end);
  const c = text[0]!;
  if (/\s/.test(c) || text.startsWith("--") || text.startsWith("/*")) return { kind: "space", text, value: text };
  if (c === "'") return { kind: "string", text, value: unescapeString(text.slice(1, -1)) };
  if ((c === "E" || c === "e") && text[1] === "'") return { kind: "estring", text, value: text };
  if (c === '"') return { kind: "quoted", text, value: foldAscii(text.slice(1, -1).replaceAll('""', '"')) };
  if (c === "$" && /[0-9]/.test(text[1] ?? "")) return { kind: "param", text, value: text };
  if (c === "$") return { kind: "dollar", text, value: text };
  if (WORD_START.test(c)) return { kind: "word", text, value: text.toLowerCase() };
  if (/[0-9.]/.test(c) && text.length > 0 && text !== ".") return { kind: "number", text, value: text };
  return { kind: "op", text, value: text };
}

function scanWhile(sql: string, start: number, test: (ch: string) => boolean): number {
  let i = start;
  while (i < sql.length && test(sql[i]!)) i++;
  return Math.max(i, start + 1);
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

function quoteEnd(sql: string, start: number, quote: string, backslash: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslash && c === "\\") i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  throw new Error(`unterminated quoted ${quote === "'" ? "string" : "identifier"} at or near "${sql.slice(start, start + 20)}"`);
}

function dollarEnd(sql: string, start: number): number {
  const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(start))?.[0];
  if (tag === undefined) return start + 1;
  const close = sql.indexOf(tag, start + tag.length);
  if (close < 0) throw new Error("unterminated dollar-quoted string");
  return close + tag.length;
}

/** Redshift: `''` is a quote, and a backslash takes the next character as it is. */
function unescapeString(body: string): string {
  return body.replace(/''|\\(.)/gs, (match: string, escaped: string | undefined) => (match === "''" ? "'" : escaped!));
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
  if (token.kind === "string") return pgString(token.value);
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
