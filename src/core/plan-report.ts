import type { Grant } from "./grants.js";
import type { Change, ChangeReason, PendingGrant, Plan } from "./plan.js";

/** The DESIGN §4.2 JSON document: changes, pending, warnings, summary (+ safety). */
export function planJson(plan: Plan): unknown {
  return {
    changes: plan.changes.map((c) => ({
      op: c.op,
      privilege: c.privilege,
      grantee: { kind: c.grantee.kind, name: c.grantee.name },
      object: { schema: c.object.schema, table: c.object.table, columns: c.object.columns },
      because: c.because,
      reason: c.reason,
    })),
    pending: plan.pending.map((p) => ({
      privilege: p.privilege,
      grantee: { kind: p.grantee.kind, name: p.grantee.name },
      object: { schema: p.object.schema, table: p.object.table, columns: p.object.columns },
      missing: p.missing,
      because: p.because,
    })),
    warnings: plan.warnings,
    summary: plan.summary,
    safety: plan.safety,
  };
}

export function planJsonText(plan: Plan): string {
  return `${JSON.stringify(planJson(plan), null, 2)}\n`;
}

const REASON_TEXT: Record<ChangeReason, string> = {
  grantBecausePolicy: "granted by",
  grantBecauseDriftRepair: "recorded but missing in the target (drift), granted by",
  grantBecauseColumnsWidened: "columns join the subset, granted by",
  grantBecauseFormChanged: "access form changes, granted by",
  revokeBecauseNoPolicy: "no policy grants it any more; was granted by",
  revokeBecauseColumnsNarrowed: "columns leave the subset; were granted by",
  revokeBecauseFormChanged: "access form changes (Redshift cannot hold table and column level at once); was",
  revokeBecauseUnmanaged: "held outside the service, and no policy allows it (authoritative ownership)",
};

/** Terraform-style text: grouped by schema and table, `+` grant, `-` revoke, and why. */
export function planText(plan: Plan, options: { readonly color?: boolean } = {}): string {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const lines: string[] = [];
  const s = plan.summary;
  if (plan.changes.length === 0 && s.stateOnly === 0) {
    lines.push("No changes. Redshift grants match Lake Formation.");
  } else {
    let currentGroup = "";
    for (const change of plan.changes) {
      const group = change.object.table === null ? `schema ${change.object.schema}` : `table ${change.object.schema}.${change.object.table}`;
      if (group !== currentGroup) {
        lines.push("", `  # ${group}`);
        currentGroup = group;
      }
      const glyph = change.op === "grant" ? paint("32", "+") : paint("31", "-");
      lines.push(`  ${glyph} ${describeGrant(change)} ${change.op === "grant" ? "to" : "from"} ${change.grantee.kind} ${change.grantee.name}`);
      lines.push(`      ${REASON_TEXT[change.reason]} ${change.because.length > 0 ? change.because.join("; ") : "(no recorded policy)"}`);
    }
    if (s.stateOnly > 0) lines.push("", `  ${s.stateOnly} recorded grant(s) on objects or grantees that no longer exist will be forgotten.`);
  }
  if (plan.pending.length > 0) {
    lines.push("", "Pending (missing in the target; granted by a later run once they exist):");
    for (const p of plan.pending) lines.push(`  ~ ${describeGrant(p)} to ${p.grantee.kind} ${p.grantee.name}: ${pendingText(p)}`);
  }
  if (plan.warnings.length > 0) {
    lines.push("", "Warnings:");
    for (const w of plan.warnings) lines.push(`  ! ${w}`);
  }
  if (plan.safety.reasons.length > 0) {
    lines.push("", plan.safety.refused ? "Refused by safety rules (apply --force overrides):" : "Safety rules overridden by --force:");
    for (const r of plan.safety.reasons) lines.push(`  ! ${r}`);
  }
  lines.push("", `Plan: ${s.grants} to grant, ${s.revokes} to revoke, ${s.pending} pending, ${s.unchanged} unchanged.`);
  return `${lines.join("\n").replace(/^\n/, "")}\n`;
}

function describeGrant(grant: Grant): string {
  const columns = grant.object.columns === null ? "" : ` (${grant.object.columns.join(", ")})`;
  const object = grant.object.table === null ? `SCHEMA ${grant.object.schema}` : `${grant.object.schema}.${grant.object.table}`;
  return `${grant.privilege}${columns} ON ${object}`;
}

function pendingText(p: PendingGrant): string {
  switch (p.missing) {
    case "grantee":
      return `${p.grantee.kind} ${p.grantee.name} does not exist`;
    case "schema":
      return `schema ${p.object.schema} does not exist`;
    case "table":
      return `table ${p.object.schema}.${p.object.table} does not exist`;
    case "columns":
      return "these columns do not exist";
  }
}

export type { Change };
