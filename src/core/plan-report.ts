import type { Grant } from "./grants.js";
import { type Change, type ChangeReason, type GranteeOwnership, iterateChanges, type PendingGrant, type Plan, planParts, type UnmanagedGrant } from "./plan.js";
import type { PolicyRef } from "./policy-ref.js";
import { terminalText } from "./terminal-text.js";

/**
 * A plan as JSON (DESIGN §4.2) and as Terraform-style text, both produced as chunks: a plan can be
 * far larger than one string may be (a first apply of millions of grants, or policies whose
 * expressions are hundreds of KB), so writers stream them and never join them whole.
 */

/** Parts joined into chunks of about `size` characters (fewer, larger writes). */
export function* chunked(parts: Iterable<string>, size = 64 * 1024): Generator<string> {
  let buffer = "";
  for (const part of parts) {
    buffer += part;
    if (buffer.length >= size) {
      yield buffer;
      buffer = "";
    }
  }
  if (buffer.length > 0) yield buffer;
}

function grantJson(g: Grant) {
  return {
    privilege: g.privilege,
    grantee: { kind: g.grantee.kind, name: g.grantee.name },
    object: { schema: g.object.schema, table: g.object.table, columns: g.object.columns },
  };
}

function policyJson(p: PolicyRef) {
  return { id: p.id, principal: p.principal, resourceType: p.resourceType, expression: p.expression, permissions: p.permissions };
}

function* jsonList<T>(name: string, items: Iterable<T>, toJson: (item: T) => unknown): Generator<string> {
  yield `  ${JSON.stringify(name)}: [`;
  let first = true;
  for (const item of items) {
    yield `${first ? "\n" : ",\n"}    ${JSON.stringify(toJson(item))}`;
    first = false;
  }
  yield first ? "],\n" : "\n  ],\n";
}

/** The DESIGN §4.2 document, one list item per line: policies (once each), changes and pending grants referring to them by id. */
export function planJsonChunks(plan: Plan): Generator<string> {
  return chunked(planJsonParts(plan));
}

function* planJsonParts(plan: Plan): Generator<string> {
  yield "{\n";
  yield* jsonList("policies", plan.policies, policyJson);
  yield* jsonList("changes", iterateChanges(plan), (c: Change) => ({ op: c.op, ...grantJson(c), because: c.because, reason: c.reason }));
  yield* jsonList("pending", plan.pending, (p: PendingGrant) => ({ ...grantJson(p), missing: p.missing, because: p.because }));
  yield* jsonList("adopted", adoptedGrants(plan), grantJson);
  yield* jsonList("unmanaged", plan.unmanaged, (u: UnmanagedGrant) => ({ ...grantJson(u), why: u.why, mode: u.mode }));
  yield* jsonList("ownership", plan.ownership, (o: GranteeOwnership) => ({ grantee: o.grantee, mode: o.mode }));
  yield* jsonList("warnings", plan.warnings, (w: string) => w);
  yield `  "summary": ${JSON.stringify(plan.summary)},\n`;
  yield `  "safety": ${JSON.stringify(plan.safety)}\n}\n`;
}

/** The whole JSON document as one string: for small plans (tests); writers use planJsonChunks. */
export function planJsonText(plan: Plan): string {
  return [...planJsonChunks(plan)].join("");
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

export interface PlanTextOptions {
  readonly color?: boolean;
}

/**
 * Terraform-style text: grouped by schema and table, `+` grant, `-` revoke, and why (policy ids,
 * listed once under "Policies"). Every catalog-derived string goes through terminalText.
 */
export function planTextChunks(plan: Plan, options: PlanTextOptions = {}): Generator<string> {
  return chunked(planTextLines(plan, options));
}

export function planText(plan: Plan, options: PlanTextOptions = {}): string {
  return [...planTextChunks(plan, options)].join("");
}

function* planTextLines(plan: Plan, options: PlanTextOptions): Generator<string> {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const s = plan.summary;
  if (s.grants + s.revokes + s.adopted === 0 && s.stateOnly === 0) yield "No changes. Redshift grants match Lake Formation.\n";
  else {
    yield* changeLines(plan, paint);
    if (s.stateOnly > 0) yield `\n  ${s.stateOnly} recorded grant(s) on objects or grantees that no longer exist will be forgotten, or re-recorded under another kind (state only, no SQL).\n`;
    yield* rekindLines(plan);
  }
  yield* ownershipLines(plan);
  if (plan.pending.length > 0) {
    yield "\nPending (missing in the target; granted by a later run once they exist):\n";
    for (const p of plan.pending) yield `  ~ ${describeGrant(p)} to ${describeGrantee(p)}: ${pendingText(p)}\n`;
  }
  yield* policyLines(plan);
  if (plan.warnings.length > 0) {
    yield "\nWarnings:\n";
    for (const w of plan.warnings) yield `  ! ${terminalText(w)}\n`;
  }
  if (plan.safety.reasons.length > 0) {
    yield `\n${plan.safety.refused ? "Refused by safety rules (apply --force overrides):" : "Safety rules overridden by --force:"}\n`;
    for (const r of plan.safety.reasons) yield `  ! ${terminalText(r)}\n`;
  }
  yield `\n${planSummaryText(plan)}\n`;
}

function* changeLines(plan: Plan, paint: (code: string, text: string) => string): Generator<string> {
  let currentGroup = "";
  let first = true;
  for (const change of iterateChanges(plan)) {
    const o = change.object;
    const group = o.table === null ? `schema ${terminalText(o.schema)}` : `table ${terminalText(o.schema)}.${terminalText(o.table)}`;
    if (group !== currentGroup) {
      yield `${first ? "" : "\n"}  # ${group}\n`;
      currentGroup = group;
      first = false;
    }
    const glyph = change.op === "grant" ? paint("32", "+") : paint("31", "-");
    yield `  ${glyph} ${describeGrant(change)} ${change.op === "grant" ? "to" : "from"} ${describeGrantee(change)}\n`;
    yield `      ${REASON_TEXT[change.reason]} ${change.because.length > 0 ? change.because.map(terminalText).join("; ") : "(no recorded policy)"}\n`;
  }
}

/** Each policy once: changes name them by id. */
function* policyLines(plan: Plan): Generator<string> {
  if (plan.policies.length === 0) return;
  yield "\nPolicies:\n";
  for (const p of plan.policies) {
    yield `  ${terminalText(p.id)}: ${terminalText(p.principal)} ${p.resourceType} ${terminalText(p.expression)} -> ${p.permissions.map(terminalText).join(", ")}\n`;
  }
}

/** One line: what reconcile prints instead of the whole plan. */
export function planSummaryText(plan: Plan): string {
  const s = plan.summary;
  const adopt = s.adopted > 0 ? `, ${s.adopted} to adopt` : "";
  const unmanaged = s.unmanaged > 0 ? `, ${s.unmanaged} unmanaged` : "";
  return `Plan: ${s.grants} to grant, ${s.revokes} to revoke${adopt}, ${s.pending} pending, ${s.unchanged} unchanged${unmanaged}.`;
}

/** Held grants the plan records as the service's own (`~ adopt`): state rows only, no SQL. */
export function adoptedGrants(plan: Plan): Grant[] {
  return planParts(plan).steps.flatMap((step) => step.records.filter((r) => r.adopt === true).map((r) => r.grant));
}

/** PostgreSQL: recorded grants moving between the group and role kinds of one role (one privilege, no SQL). */
function* rekindLines(plan: Plan): Generator<string> {
  const moved = planParts(plan).steps.flatMap((step) => step.records.filter((r) => r.rekind === true && r.op === "record").map((r) => r.grant));
  if (moved.length === 0) return;
  yield "\nRe-recorded (PostgreSQL: a group and a role of one name are one role, so the grant is kept; no SQL):\n";
  for (const g of moved) yield `  ~ ${describeGrant(g)} now recorded for ${describeGrantee(g)}\n`;
}

/** `~ adopt` lines, the unmanaged-access count, and the grantees whose ownership mode is not `recorded`. */
function* ownershipLines(plan: Plan): Generator<string> {
  const adopted = adoptedGrants(plan);
  if (adopted.length > 0) {
    yield "\nAdopt (held already, exactly as Lake Formation allows: recorded as the service's own, no SQL):\n";
    for (const g of adopted) yield `  ~ adopt ${describeGrant(g)} to ${describeGrantee(g)}\n`;
  }
  if (plan.unmanaged.length > 0) {
    const revoked = plan.unmanaged.filter((u) => u.mode === "authoritative").length;
    yield `\nUnmanaged access: ${plan.unmanaged.length} held grant(s) on managed schemas that no policy explains (${revoked} revoked by authoritative ownership); details in --format json, GET /plan or \`access\`.\n`;
  }
  const owned = plan.ownership.filter((o) => o.mode !== "recorded");
  if (owned.length > 0) {
    yield `\nOwnership (every other grantee: recorded): ${owned.map((o) => `${o.grantee.kind} ${terminalText(o.grantee.name)}: ${o.mode}`).join(", ")}\n`;
  }
}

function describeGrant(grant: Grant): string {
  const o = grant.object;
  const columns = o.columns === null ? "" : ` (${o.columns.map(terminalText).join(", ")})`;
  const object = o.table === null ? `SCHEMA ${terminalText(o.schema)}` : `${terminalText(o.schema)}.${terminalText(o.table)}`;
  return `${grant.privilege}${columns} ON ${object}`;
}

function describeGrantee(grant: Grant): string {
  return `${grant.grantee.kind} ${terminalText(grant.grantee.name)}`;
}

function pendingText(p: PendingGrant): string {
  switch (p.missing) {
    case "grantee":
      return `${describeGrantee(p)} does not exist`;
    case "schema":
      return `schema ${terminalText(p.object.schema)} does not exist`;
    case "table":
      return `table ${terminalText(p.object.schema)}.${terminalText(p.object.table ?? "")} does not exist`;
    case "columns":
      return "these columns do not exist";
  }
}

export type { Change };
