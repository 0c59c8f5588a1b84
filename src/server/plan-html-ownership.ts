import type { Grant } from "../core/grants.js";
import type { Plan } from "../core/plan.js";
import { adoptedGrants } from "../core/plan-report.js";
import { escapeHtml } from "./plan-html.js";

const WHY: Record<Plan["unmanaged"][number]["why"], string> = {
  noPolicy: "no policy explains it",
  widerThanAllowed: "wider than Lake Formation allows",
};

/**
 * The plan page's ownership part (README "Adopting an existing warehouse"): grants adopted with no
 * SQL, held grants no policy explains (in every mode), and each grantee's ownership mode.
 * Test hooks: adopt, unmanaged, ownership.
 */
export function* ownershipSections(plan: Plan): Generator<string> {
  const adopted = adoptedGrants(plan);
  if (adopted.length > 0) {
    yield `\n<h2>Adopt</h2>\n<p class="why">Held already, exactly as Lake Formation allows: recorded as the service's own, with no SQL.</p>\n<ul>`;
    for (const g of adopted) yield `<li data-testid="adopt"${attributes(g)}>~ adopt <code>${grantText(g)}</code></li>`;
    yield `</ul>`;
  }
  yield `\n<h2>Unmanaged access</h2>\n`;
  if (plan.unmanaged.length === 0) yield `<p class="empty">Every held grant on a managed schema is explained by a policy.</p>`;
  else {
    yield `<p class="why">${plan.unmanaged.length} held grant(s) on managed schemas that no policy explains. Only grantees in <code>authoritative</code> mode have them revoked.</p>\n<ul>`;
    for (const u of plan.unmanaged) yield `<li data-testid="unmanaged"${attributes(u)}><code>${grantText(u)}</code>: ${WHY[u.why]} (mode ${u.mode})</li>`;
    yield `</ul>`;
  }
  const owned = plan.ownership.filter((o) => o.mode !== "recorded");
  if (owned.length > 0) {
    yield `\n<h2>Ownership</h2>\n<p class="why">Every other grantee: recorded (only what the service recorded is ever revoked).</p>\n<ul>`;
    for (const o of owned) yield `<li data-testid="ownership">${o.grantee.kind} <code>${escapeHtml(o.grantee.name)}</code>: ${o.mode}</li>`;
    yield `</ul>`;
  }
}

function attributes(g: Grant): string {
  return ` data-grantee="${escapeHtml(g.grantee.name)}" data-schema="${escapeHtml(g.object.schema)}"`;
}

function grantText(g: Grant): string {
  const columns = g.object.columns === null ? "" : ` (${g.object.columns.map(escapeHtml).join(", ")})`;
  const object = g.object.table === null ? `SCHEMA ${escapeHtml(g.object.schema)}` : `${escapeHtml(g.object.schema)}.${escapeHtml(g.object.table)}`;
  return `${escapeHtml(g.privilege)}${columns} ON ${object} TO ${g.grantee.kind} ${escapeHtml(g.grantee.name)}`;
}
