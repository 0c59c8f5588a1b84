import { SyncError } from "../../errors.js";

/**
 * The `tables` text of a grant_slots row (migrations/0001): the row's table names, each a JSON
 * string whose `"` is written `\u0022`, concatenated with nothing between them: `"orders""line\u0022s"`.
 * The only `"` characters of the text are the delimiters, so `"name"` occurs in it exactly where
 * that name is listed (the quote closing one name is followed by the quote opening the next, never
 * by a character of a name; names are never empty). Plain SQL both dialects have can then find a
 * table in a row (POSITION), take it out (REPLACE) and count the names (LENGTH): no JSON functions,
 * which Redshift lacks (aws-facts §7).
 */

/** Names JSON.stringify leaves as they are: no quote, backslash, control character or surrogate. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\ud7ff\ue000-\uffff]+$/;

/** A backslash (an escape) or a control character, which JSON.parse refuses unescaped. */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const ESCAPED = /[\\\x00-\x1f]/;

/** One name as it appears in a `tables` text, delimiters included. */
export function tableToken(name: string): string {
  if (PLAIN.test(name)) return `"${name}"`;
  if (name.length === 0) throw new SyncError("TARGET_FAILED", "an empty table name cannot be recorded");
  // JSON.stringify writes every `"` of the name as `\"`; `\u0022` keeps its `"` out of the text.
  return `"${JSON.stringify(name).slice(1, -1).replaceAll('"', "u0022")}"`;
}

/** The names of a `tables` text, in order ('' lists none: a row whose last name was cut out). */
export function parseTables(text: string): string[] {
  if (text === "") return [];
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) {
    throw new SyncError("TARGET_FAILED", `state schema row has tables ${JSON.stringify(text.slice(0, 200))}`);
  }
  // Most texts hold no escape and no control character: their names are the text between the
  // delimiters, found without JSON.parse (the state read splits ~300k names at 10k tables). A `"`
  // left inside a name, or an empty name, is a text no writer makes: refused.
  if (!ESCAPED.test(text)) {
    const names = text.slice(1, -1).split('""');
    if (names.every((name) => name.length > 0 && !name.includes('"'))) return names;
    throw new SyncError("TARGET_FAILED", `state schema row has tables ${JSON.stringify(text.slice(0, 200))}`);
  }
  let names: unknown;
  try {
    names = JSON.parse(`[${text.replaceAll('""', '","')}]`);
  } catch (error) {
    throw new SyncError("TARGET_FAILED", `state schema row has tables ${JSON.stringify(text.slice(0, 200))}`, { cause: error });
  }
  if (!Array.isArray(names) || !names.every((name) => typeof name === "string" && name.length > 0)) {
    throw new SyncError("TARGET_FAILED", `state schema row has tables ${JSON.stringify(text.slice(0, 200))}`);
  }
  return names as string[];
}
