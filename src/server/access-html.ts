import { createHash } from "node:crypto";
import { accessSummary } from "../core/access/access-report.js";
import type { AccessRow, AccessStatus } from "../core/access/access-rows.js";
import { describeOrigin } from "../core/access/tag-origins.js";
import { escapeHtml } from "./plan-html.js";

/**
 * The access report for browsers: who can do what now, and why. One self-contained page (inline
 * CSS and JS, a CSP that admits only them), streamed row by row. Every catalog-derived string goes
 * through `escapeHtml`; the script filters on data attributes and never embeds catalog text.
 * Test hooks: access-row, filter-grantee, filter-schema, filter-table, filter-status, visible-count.
 */

const STATUS_LABEL: Record<AccessStatus, string> = {
  granted: "granted",
  pending: "allowed, not held yet",
  differs: "held on other columns",
  unexplained: "held, no policy explains it",
};

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #fff; --line: #d0d7de; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --head: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --line: #30363d; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --head: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 80rem; padding: 1.5rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
.meta { color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.count { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; } .count b { display: block; font-size: 1.5rem; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; position: sticky; top: 0; background: var(--bg); padding: .5rem 0; border-bottom: 1px solid var(--line); }
.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
.filters input, .filters select { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); min-width: 10rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
thead th { background: var(--head); position: sticky; top: 3.5rem; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.status-granted { color: var(--ok); } .status-unexplained, .status-differs { color: var(--bad); } .status-pending { color: var(--warn); }
ul { margin: 0; padding-left: 1.1rem; }
[hidden] { display: none !important; }
`;

const SCRIPT = `
(function () {
  var fields = ["grantee", "schema", "table", "status"].map(function (name) {
    return { name: name, input: document.querySelector('[data-testid="filter-' + name + '"]') };
  });
  var count = document.querySelector('[data-testid="visible-count"]');
  function apply() {
    var rows = document.querySelectorAll('[data-testid="access-row"]');
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var visible = true;
      for (var f = 0; f < fields.length; f++) {
        var want = fields[f].input.value.trim().toLowerCase();
        var have = (rows[i].getAttribute("data-" + fields[f].name) || "").toLowerCase();
        if (want !== "" && (fields[f].name === "status" ? have !== want : have.indexOf(want) < 0)) visible = false;
      }
      rows[i].hidden = !visible;
      if (visible) shown++;
    }
    count.textContent = shown === rows.length ? rows.length + " grant(s)" : shown + " of " + rows.length + " grant(s) shown";
  }
  for (var f = 0; f < fields.length; f++) fields[f].input.addEventListener("input", apply);
  apply();
})();
`;

const cspHash = (text: string): string => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

export const ACCESS_HTML_CSP = `default-src 'none'; style-src ${cspHash(STYLE)}; script-src ${cspHash(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;

export function* accessHtmlChunks(rows: readonly AccessRow[], options: { readonly generatedAt?: Date } = {}): Generator<string> {
  const s = accessSummary(rows);
  const at = options.generatedAt === undefined ? "" : ` Read at <time>${escapeHtml(options.generatedAt.toISOString())}</time>.`;
  yield [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<link rel="icon" href="data:,"><meta http-equiv="Content-Security-Policy" content="${escapeHtml(ACCESS_HTML_CSP)}">`,
    `<title>Access: ${s.rows} grant(s), ${s.unexplained} unexplained</title><style>${STYLE}</style></head><body>`,
    `<header><h1>Lake Formation &rarr; Redshift: effective access</h1><p class="meta">What each grantee can do now, and the policies and tags behind it.${at}</p></header>`,
    `<section class="summary" data-testid="summary">${count("granted", s.granted)}${count("pending", s.pending)}${count("differs", s.differs)}${count("unexplained", s.unexplained)}</section>`,
    filters(),
    `<table><thead><tr><th>Grantee</th><th>Object</th><th>Privilege</th><th>Status</th><th>Policies</th><th>Tags</th></tr></thead><tbody>`,
  ].join("\n");
  for (const r of rows) yield `\n${row(r)}`;
  yield `\n</tbody></table><script>${SCRIPT}</script></body></html>\n`;
}

function count(status: AccessStatus, n: number): string {
  return `<div class="count" data-testid="summary-${status}"><b>${n}</b>${STATUS_LABEL[status]}</div>`;
}

function filters(): string {
  const input = (name: string, label: string) => `<label>${label}<input type="search" data-testid="filter-${name}" autocomplete="off"></label>`;
  const statuses = (Object.keys(STATUS_LABEL) as AccessStatus[]).map((s) => `<option value="${s}">${s}</option>`).join("");
  return [
    `<section class="filters" aria-label="filters">`,
    input("grantee", "Grantee"),
    input("schema", "Schema"),
    input("table", "Table"),
    `<label>Status<select data-testid="filter-status"><option value="">any</option>${statuses}</select></label>`,
    `<span data-testid="visible-count" aria-live="polite"></span></section>`,
  ].join("\n");
}

function row(r: AccessRow): string {
  const object = `${escapeHtml(r.schema)}${r.table === null ? "" : `.${escapeHtml(r.table)}`}`;
  const columns = r.columns === null ? "" : ` (${r.columns.map(escapeHtml).join(", ")})`;
  const allowed = r.allowedColumns === undefined ? "" : `<br>allowed: ${r.allowedColumns === null ? "whole table" : r.allowedColumns.map(escapeHtml).join(", ")}`;
  const policies = r.policies.map((p) => `<li><code>${escapeHtml(p.principal)}</code>: ${escapeHtml(p.expression)}</li>`).join("");
  const tags = r.tags.map((t) => `<li>${escapeHtml(describeOrigin(t))}</li>`).join("");
  const attributes = `data-grantee="${escapeHtml(r.grantee.name)}" data-schema="${escapeHtml(r.schema)}" data-table="${escapeHtml(r.table ?? "")}" data-status="${r.status}"`;
  return [
    `<tr data-testid="access-row" ${attributes}>`,
    `<td>${r.grantee.kind} <code>${escapeHtml(r.grantee.name)}</code></td>`,
    `<td class="mono">${object}</td>`,
    `<td class="mono">${escapeHtml(r.privilege)}${columns}${allowed}</td>`,
    `<td class="status-${r.status}">${STATUS_LABEL[r.status]}</td>`,
    `<td><ul>${policies}</ul></td><td><ul>${tags}</ul></td></tr>`,
  ].join("");
}
