import { terminalText } from "../terminal-text.js";
import { accessSummary, objectLabel } from "./access-report.js";
import type { AccessRow } from "./access-rows.js";
import type { Explanation, PolicyVerdict } from "./explain.js";
import { describeOrigin } from "./tag-origins.js";

/** Catalog text for a terminal: control and bidi characters escaped (one function, terminal-text.ts). */
const t = terminalText;

/** The access report as text, one block per grant, streamed. */
export function* accessTextChunks(rows: readonly AccessRow[]): Generator<string> {
  for (const r of rows) {
    const columns = r.allowedColumns === undefined ? "" : ` (Lake Formation allows ${r.allowedColumns === null ? "the whole table" : r.allowedColumns.map(t).join(", ")})`;
    const lines = [`${r.grantee.kind} ${t(r.grantee.name)}  ${r.privilege} ON ${t(objectLabel(r))}  [${r.status}]${columns}`];
    for (const p of r.policies) lines.push(`    policy ${t(p.id)}: ${t(p.principal)}: ${t(p.expression)}`);
    if (r.status === "unexplained") lines.push("    no policy explains this grant");
    if (r.tags.length > 0) lines.push(`    tags: ${r.tags.map((o) => t(describeOrigin(o))).join(", ")}`);
    yield `${lines.join("\n")}\n`;
  }
  const s = accessSummary(rows);
  yield `\nAccess: ${s.rows} grant(s): ${s.granted} granted, ${s.pending} pending, ${s.differs} on other columns, ${s.unexplained} unexplained.\n`;
}

/** `explain` as text: tags with their origin, each policy's verdict, and what Redshift holds. */
export function explainText(e: Explanation, grantee: string): string {
  const object = `${t(e.database)}.${t(e.table)}${e.column === null ? "" : ` column ${t(e.column)}`}`;
  const lines = [`Why can ${t(grantee)} (not) read ${object}?`, "", "Effective tags:"];
  if (e.tags.length === 0) lines.push("  (none)");
  for (const o of e.tags) lines.push(`  ${t(describeOrigin(o))}`);
  lines.push("", "Policies of the grantee's principals:");
  if (e.policies.length === 0) lines.push("  (none: no TABLE policy's principal maps to this grantee)");
  for (const p of e.policies) lines.push(...verdictLines(p));
  lines.push("", "Redshift holds:");
  if (e.held.length === 0) lines.push("  (nothing)");
  for (const g of e.held) {
    const columns = g.object.columns === null ? "" : ` (${g.object.columns.map(t).join(", ")})`;
    lines.push(`  ${g.privilege}${columns} ON ${t(g.object.schema)}${g.object.table === null ? "" : `.${t(g.object.table)}`}`);
  }
  return `${lines.join("\n")}\n`;
}

function verdictLines(p: PolicyVerdict): string[] {
  const head = `  ${t(p.principal)} ${p.permissions.join(", ")} WHERE ${t(p.expression)}`;
  switch (p.outcome) {
    case "full":
      return [`${head}`, "    matches: table level (every column matches)"];
    case "columns":
      return [`${head}`, `    matches columns: ${p.matchedColumns.map(t).join(", ")} (SELECT only)`, ...failingLines(p)];
    case "skipped":
      return [`${head}`, `    skipped: ${p.note ?? ""}`];
    case "none":
      return [`${head}`, "    does not match", ...failingLines(p)];
  }
}

function failingLines(p: PolicyVerdict): string[] {
  return p.failing.map((f) => {
    const actual = f.actual === null ? "no such tag" : t(describeOrigin(f.actual));
    return `      ${t(f.key)} must be one of (${f.allowed.map(t).join(", ")}): ${actual}`;
  });
}
