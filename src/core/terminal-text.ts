/**
 * Catalog names printed to a terminal: control characters (C0, DEL, C1) could move the cursor,
 * clear the screen or set the title, and bidirectional controls can make `sales.orders` read as
 * another name (Trojan Source, CVE-2021-42574). Each becomes a visible escape; a backslash is
 * doubled so that an escape cannot be forged by a name that spells one.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

export function terminalText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === "\\") return "\\\\";
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
