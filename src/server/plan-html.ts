import { ownershipSections } from "./plan-html-ownership.js";
import { createHash } from "node:crypto";
import { compareStrings, type Grant } from "../core/grants.js";
import { type Change, type ChangeReason, iterateChanges, type PendingGrant, type Plan } from "../core/plan.js";
import { chunked } from "../core/plan-report.js";
import type { PlanFilter } from "./plan-filter.js";

/**
 * The dry-run report for browsers: one self-contained page (inline CSS and JS, no external asset,
 * works offline). Every catalog-derived string goes through `escapeHtml`; the script reads the
 * rows' data attributes and never embeds catalog text. Stable `data-testid` hooks serve the
 * browser test: summary, change, pending, warning, filter-grantee, filter-schema, visible-count.
 */

export interface PlanHtmlOptions {
  /** Shown in the header; the caller's clock keeps this function pure. */
  readonly generatedAt?: Date;
  /** Server-side filters already applied to the plan, shown so the reader knows the page is partial. */
  readonly filter?: PlanFilter;
}

const REASON_LABEL: Record<ChangeReason, string> = {
  grantBecausePolicy: "granted by policy",
  grantBecauseDriftRepair: "drift repair: recorded but missing in the target",
  grantBecauseColumnsWidened: "columns join the subset",
  grantBecauseFormChanged: "access form changes (table <-> columns)",
  revokeBecauseNoPolicy: "no policy grants it any more",
  revokeBecauseColumnsNarrowed: "columns leave the subset",
  revokeBecauseFormChanged: "access form changes (table <-> columns)",
  revokeBecauseUnmanaged: "held outside the service; no policy allows it (authoritative)",
};

const PENDING_LABEL: Record<PendingGrant["missing"], string> = {
  grantee: "the grantee does not exist",
  schema: "the schema does not exist",
  table: "the table does not exist",
  columns: "these columns do not exist",
};

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #fff; --line: #d0d7de; --grant: #1a7f37; --revoke: #cf222e; --pending: #9a6700; --head: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --line: #30363d; --grant: #3fb950; --revoke: #f85149; --pending: #d29922; --head: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; } h3 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
.meta, .why, .empty { color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.count { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; }
.count b { display: block; font-size: 1.5rem; }
.count.grants b { color: var(--grant); } .count.revokes b { color: var(--revoke); } .count.pending b { color: var(--pending); }
.banner { border: 1px solid var(--revoke); border-radius: 6px; padding: .5rem .9rem; margin: 1rem 0; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; position: sticky; top: 0; background: var(--bg); padding: .5rem 0; border-bottom: 1px solid var(--line); }
.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
.filters input { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); min-width: 14rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: .5rem; table-layout: fixed; }
col.op { width: 8.5rem; } col.grant { width: 32%; } col.grantee { width: 20%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
thead th { background: var(--head); font-weight: 600; }
tbody th { background: var(--head); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.op { font-weight: 700; white-space: nowrap; } .op.grant { color: var(--grant); } .op.revoke { color: var(--revoke); } .op.pending { color: var(--pending); }
.why ul { margin: .1rem 0 0; padding-left: 1.1rem; }
@media (max-width: 40rem) {
  table, tbody, tr, td, th { display: block; width: auto; }
  thead, colgroup { display: none; }
  tr { border-bottom: 1px solid var(--line); padding: .3rem 0; }
  td, th { border: 0; padding: .1rem .5rem; }
}
dl.policies dd { margin: 0 0 .5rem 1rem; overflow-wrap: anywhere; }
[hidden] { display: none !important; }
`;

const SCRIPT = `
(function () {
  var grantee = document.querySelector('[data-testid="filter-grantee"]');
  var schema = document.querySelector('[data-testid="filter-schema"]');
  var count = document.querySelector('[data-testid="visible-count"]');
  function matches(row) {
    var g = grantee.value.trim().toLowerCase(), s = schema.value.trim().toLowerCase();
    return (g === "" || (row.getAttribute("data-grantee") || "").toLowerCase().indexOf(g) >= 0) &&
      (s === "" || (row.getAttribute("data-schema") || "").toLowerCase().indexOf(s) >= 0);
  }
  function apply() {
    var rows = document.querySelectorAll('[data-testid="change"], [data-testid="pending"]');
    var shown = 0, total = 0;
    for (var i = 0; i < rows.length; i++) {
      var visible = matches(rows[i]);
      rows[i].hidden = !visible;
      if (rows[i].getAttribute("data-testid") === "change") { total++; if (visible) shown++; }
    }
    var groups = document.querySelectorAll("[data-group]");
    for (var j = 0; j < groups.length; j++) {
      groups[j].hidden = groups[j].querySelector('[data-testid="change"]:not([hidden]), [data-testid="pending"]:not([hidden])') === null;
    }
    count.textContent = shown === total ? total + " change(s)" : shown + " of " + total + " change(s) shown";
  }
  grantee.addEventListener("input", apply);
  schema.addEventListener("input", apply);
  apply();
})();
`;

const cspHash = (text: string): string => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/**
 * Only the page's own inline style and script may run: an escaping slip cannot become script.
 * `img-src data:` serves the empty favicon (no request, no 404 in the console).
 */
export const PLAN_HTML_CSP = `default-src 'none'; style-src ${cspHash(STYLE)}; script-src ${cspHash(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page as one string: for small plans (tests); the route streams renderPlanHtmlChunks. */
export function renderPlanHtml(plan: Plan, options: PlanHtmlOptions = {}): string {
  return [...renderPlanHtmlChunks(plan, options)].join("");
}

/** The page in chunks: a plan can be far larger than one string may be. */
export function renderPlanHtmlChunks(plan: Plan, options: PlanHtmlOptions = {}): Generator<string> {
  return chunked(pageParts(plan, options));
}

function* pageParts(plan: Plan, options: PlanHtmlOptions): Generator<string> {
  const s = plan.summary;
  const at = options.generatedAt?.toISOString();
  yield [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<link rel="icon" href="data:,">`,
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(PLAN_HTML_CSP)}">`,
    `<title>Plan: ${s.grants} to grant, ${s.revokes} to revoke, ${s.pending} pending</title>`,
    `<style>${STYLE}</style></head>`,
    `<body>`,
    `<header><h1>Lake Formation &rarr; Redshift: plan</h1>`,
    `<p class="meta">Dry run: nothing was applied.${at ? ` Computed at <time datetime="${escapeHtml(at)}">${escapeHtml(at)}</time>.` : ""}${describeFilter(options.filter)}</p></header>`,
    `<section data-testid="summary" class="summary" aria-label="summary">`,
    count("grants", s.grants, "to grant"),
    count("revokes", s.revokes, "to revoke"),
    count("pending", s.pending, "pending"),
    count("unchanged", s.unchanged, "unchanged"),
    s.stateOnly > 0 ? count("state-only", s.stateOnly, "recorded grants to forget or re-record (no SQL)") : "",
    s.adopted > 0 ? count("adopted", s.adopted, "to adopt (no SQL)") : "",
    count("unmanaged", s.unmanaged, "unmanaged (no policy explains)"),
    `</section>`,
    safetyBanner(plan),
    filters(plan),
    `<h2>Changes</h2>\n`,
  ].join("\n");
  const policyIds = new Set(plan.policies.map((p) => p.id));
  if (s.grants + s.revokes === 0) yield `<p class="empty">No changes. Redshift grants match Lake Formation.</p>`;
  else yield* changeGroups(iterateChanges(plan), policyIds);
  yield `\n<h2>Pending</h2>\n`;
  yield plan.pending.length === 0 ? `<p class="empty">Nothing pending.</p>` : pendingTable(plan.pending, policyIds);
  yield* ownershipSections(plan);
  yield* policySection(plan.policies);
  yield `\n<h2>Warnings</h2>\n`;
  yield plan.warnings.length === 0 ? `<p class="empty">No warnings.</p>` : `<ul>${plan.warnings.map((w) => `<li data-testid="warning">${escapeHtml(w)}</li>`).join("")}</ul>`;
  yield `\n<script>${SCRIPT}</script>\n</body></html>\n`;
}

/** Each policy once, with an anchor the changes link to. */
function* policySection(policies: Plan["policies"]): Generator<string> {
  if (policies.length === 0) return;
  yield `\n<h2>Policies</h2>\n<dl class="policies">`;
  for (const p of policies) {
    yield `<dt id="policy-${escapeHtml(p.id)}" data-testid="policy"><code>${escapeHtml(p.id)}</code> ${escapeHtml(p.resourceType)} for <code>${escapeHtml(p.principal)}</code></dt>`;
    yield `<dd><code>${escapeHtml(p.expression)}</code> &rarr; ${p.permissions.map(escapeHtml).join(", ")}</dd>\n`;
  }
  yield `</dl>`;
}

/** A policy id links to its entry; anything else (a label recorded before policy ids) is shown as text. */
function becauseItem(because: string, policyIds: ReadonlySet<string>): string {
  return policyIds.has(because) ? `<li><a href="#policy-${escapeHtml(because)}">${escapeHtml(because)}</a></li>` : `<li>${escapeHtml(because)}</li>`;
}

function count(kind: string, n: number, label: string): string {
  return `<div class="count ${kind}" data-testid="summary-${kind}"><b>${n}</b>${label}</div>`;
}

function describeFilter(filter: PlanFilter | undefined): string {
  const parts: string[] = [];
  if (filter?.grantee !== undefined) parts.push(`grantee <code>${escapeHtml(filter.grantee)}</code>`);
  if (filter?.schema !== undefined) parts.push(`schema <code>${escapeHtml(filter.schema)}</code>`);
  return parts.length === 0 ? "" : ` Showing only ${parts.join(" and ")}.`;
}

function safetyBanner(plan: Plan): string {
  if (plan.safety.reasons.length === 0) return "";
  const title = plan.safety.refused ? "Apply would be refused by the safety rules (apply --force overrides):" : "Safety rules overridden by --force:";
  return `<div class="banner" data-testid="safety"><strong>${title}</strong><ul>${plan.safety.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul></div>`;
}

function filters(plan: Plan): string {
  const grantees = new Set<string>();
  const schemas = new Set<string>();
  for (const g of [...iterateChanges(plan), ...plan.pending]) {
    grantees.add(g.grantee.name);
    schemas.add(g.object.schema);
  }
  const options = (values: ReadonlySet<string>) =>
    [...values]
      .sort(compareStrings)
      .map((v) => `<option value="${escapeHtml(v)}"></option>`)
      .join("");
  return [
    `<section class="filters" aria-label="filters">`,
    `<label>Grantee<input type="search" data-testid="filter-grantee" list="grantees" placeholder="any grantee" autocomplete="off"></label>`,
    `<label>Schema<input type="search" data-testid="filter-schema" list="schemas" placeholder="any schema" autocomplete="off"></label>`,
    `<span data-testid="visible-count" aria-live="polite">${plan.summary.grants + plan.summary.revokes} change(s)</span>`,
    `<datalist id="grantees">${options(grantees)}</datalist><datalist id="schemas">${options(schemas)}</datalist>`,
    `</section>`,
  ].join("\n");
}

/** Same column widths in every table, so the schemas' tables line up. */
const COLUMNS = `<colgroup><col class="op"><col class="grant"><col class="grantee"><col></colgroup>`;

/** Changes arrive sorted by (schema, table, ...): consecutive runs form the groups. */
function* changeGroups(changes: Iterable<Change>, policyIds: ReadonlySet<string>): Generator<string> {
  let schema: string | null = null;
  let table: string | null | undefined;
  for (const change of changes) {
    const o = change.object;
    if (o.schema !== schema) {
      if (table !== undefined) yield `</tbody>\n`;
      if (schema !== null) yield `</table></section>\n`;
      schema = o.schema;
      table = undefined;
      yield `<section data-group data-schema="${escapeHtml(o.schema)}"><h3>Schema <code>${escapeHtml(o.schema)}</code></h3>\n`;
      yield `<table>${COLUMNS}<thead><tr><th>Op</th><th>Privilege</th><th>Grantee</th><th>Why</th></tr></thead>\n`;
    }
    if (o.table !== table) {
      if (table !== undefined) yield `</tbody>\n`;
      table = o.table;
      const title = o.table === null ? `schema ${escapeHtml(o.schema)}` : `${escapeHtml(o.schema)}.${escapeHtml(o.table)}`;
      yield `<tbody data-group><tr><th colspan="4">${title}</th></tr>\n`;
    }
    yield `${changeRow(change, policyIds)}\n`;
  }
  if (table !== undefined) yield `</tbody>\n`;
  if (schema !== null) yield `</table></section>`;
}

function changeRow(change: Change, policyIds: ReadonlySet<string>): string {
  const because = change.because.length === 0 ? `<li>(no recorded policy)</li>` : change.because.map((b) => becauseItem(b, policyIds)).join("");
  return [
    `<tr data-testid="change" data-op="${change.op}"${grantAttributes(change)}>`,
    `<td class="op ${change.op}">${change.op === "grant" ? "+ GRANT" : "&minus; REVOKE"}</td>`,
    `<td class="mono">${privilegeText(change)}</td>`,
    `<td>${granteeText(change)}</td>`,
    `<td class="why">${escapeHtml(REASON_LABEL[change.reason])}<ul>${because}</ul></td>`,
    `</tr>`,
  ].join("");
}

function pendingTable(pending: readonly PendingGrant[], policyIds: ReadonlySet<string>): string {
  const rows = pending.map((p) =>
    [
      `<tr data-testid="pending"${grantAttributes(p)}>`,
      `<td class="op pending">~ PENDING</td>`,
      `<td class="mono">${privilegeText(p)} ON ${objectText(p)}</td>`,
      `<td>${granteeText(p)}</td>`,
      `<td class="why">${escapeHtml(PENDING_LABEL[p.missing])}<ul>${p.because.map((b) => becauseItem(b, policyIds)).join("")}</ul></td>`,
      `</tr>`,
    ].join(""),
  );
  return `<table data-group>${COLUMNS}<thead><tr><th>State</th><th>Grant</th><th>Grantee</th><th>Why</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

function grantAttributes(g: Grant): string {
  return ` data-grantee="${escapeHtml(g.grantee.name)}" data-schema="${escapeHtml(g.object.schema)}"`;
}

function privilegeText(g: Grant): string {
  const columns = g.object.columns === null ? "" : ` (${g.object.columns.map(escapeHtml).join(", ")})`;
  return `${escapeHtml(g.privilege)}${columns}`;
}

function objectText(g: Grant): string {
  return g.object.table === null ? `SCHEMA ${escapeHtml(g.object.schema)}` : `${escapeHtml(g.object.schema)}.${escapeHtml(g.object.table)}`;
}

function granteeText(g: Grant): string {
  return `${g.grantee.kind} <code>${escapeHtml(g.grantee.name)}</code>`;
}
