import { describe, expect, it } from "vitest";
import type { Dialect, Grant } from "../../../src/core/grants.js";
import type { OwnershipMode } from "../../../src/core/ownership.js";
import { decideSlot, type SlotDecision, type SlotInput } from "../../../src/core/plan/slot.js";
import { desired, grant, recorded } from "../../support/catalog-builders.js";

/**
 * decideSlot, one row per row of the README's Semantics table that the planner decides (the others
 * belong to the resolver and the mapper). Inputs are one slot: analyst x SELECT x sales.orders.
 */
interface Row {
  /** The README Semantics row, as written there. */
  readonly semantics: string;
  readonly situation: string;
  /** `full` or a column list `id,amount`; undefined: no policy grants it. */
  readonly desired?: string;
  /** Recorded forms: `full` and/or column lists. */
  readonly recorded?: readonly string[];
  /** Held forms, by anyone's grant. */
  readonly held?: readonly string[];
  readonly exists?: SlotInput["exists"];
  readonly columns?: readonly string[];
  readonly dialect?: Dialect;
  readonly ownership?: OwnershipMode;
  /** The kind the state recorded the slot under, when not the slot's (PostgreSQL: one role, plan/kinds.ts). */
  readonly stateKind?: "role";
  /** Recorded forms under the slot's own kind too (with stateKind: the state holds the slot under both). */
  readonly alsoRecorded?: readonly string[];
  /** `revoke (id) revokeBecauseNoPolicy`, `grant full grantBecausePolicy`, `forget (id)`, `record full`, `pending columns (gone)`, `unchanged`, `warning /regex/`. */
  readonly expect: readonly string[];
}

const TABLE_COLUMNS = ["amount", "email", "id"];
const path = (form: string) => `sales.orders${form === "full" ? "" : `(${form})`}`;

const rows: readonly Row[] = [
  { semantics: "table's effective tags match, every column matches", situation: "nothing recorded or held", desired: "full", expect: ["grant full grantBecausePolicy", "record full"] },
  { semantics: "table's effective tags match, every column matches", situation: "recorded and held already", desired: "full", recorded: ["full"], held: ["full"], expect: ["unchanged"] },
  { semantics: "some columns match (column-level tags)", situation: "nothing recorded or held", desired: "amount,id", expect: ["grant (amount,id) grantBecausePolicy", "record (amount,id)"] },
  { semantics: "no column matches", situation: "recorded and held: revoke and forget", recorded: ["full"], held: ["full"], expect: ["revoke full revokeBecauseNoPolicy", "forget full"] },
  { semantics: "no column matches", situation: "recorded, not held: forget without SQL", recorded: ["amount,id"], expect: ["forget (amount,id)"] },
  { semantics: "object or grantee missing in Redshift", situation: "grantee missing", desired: "full", exists: "grantee", expect: ["pending grantee full"] },
  { semantics: "object or grantee missing in Redshift", situation: "table missing", desired: "full", exists: "table", expect: ["pending table full"] },
  { semantics: "object or grantee missing in Redshift", situation: "a column missing: grant the others", desired: "amount,gone", expect: ["grant (amount) grantBecausePolicy", "record (amount)", "pending columns (gone)"] },
  { semantics: "object or grantee missing in Redshift", situation: "recorded on a vanished table: forget, no SQL", recorded: ["full"], exists: "table", expect: ["forget full"] },
  { semantics: "object or grantee missing in Redshift", situation: "still desired on a vanished table: pending, forget", desired: "full", recorded: ["full"], exists: "table", expect: ["forget full", "pending table full"] },
  { semantics: "full table <-> column subset", situation: "full -> (amount,id)", desired: "amount,id", recorded: ["full"], held: ["full"], expect: ["revoke full revokeBecauseFormChanged", "grant (amount,id) grantBecauseFormChanged", "forget full", "record (amount,id)"] },
  { semantics: "full table <-> column subset", situation: "(amount,id) -> full", desired: "full", recorded: ["amount,id"], held: ["amount,id"], expect: ["revoke (amount,id) revokeBecauseFormChanged", "grant full grantBecauseFormChanged", "forget (amount,id)", "record full"] },
  { semantics: "full table <-> column subset", situation: "full desired, (id) held outside the service (Redshift): no SQL, warn", desired: "full", held: ["id"], expect: ["warning /column-level grants made outside the service/"] },
  { semantics: "full table <-> column subset", situation: "same on PostgreSQL, which allows both forms", desired: "full", held: ["id"], dialect: "postgres", expect: ["grant full grantBecausePolicy", "record full"] },
  { semantics: "column subset changes", situation: "(amount,id) -> (amount,email)", desired: "amount,email", recorded: ["amount,id"], held: ["amount,id"], expect: ["revoke (id) revokeBecauseColumnsNarrowed", "grant (email) grantBecauseColumnsWidened", "forget (id)", "record (amount,email)"] },
  { semantics: "column subset changes", situation: "(amount,id) -> (id)", desired: "id", recorded: ["amount,id"], held: ["amount,id"], expect: ["revoke (amount) revokeBecauseColumnsNarrowed", "forget (amount)", "record (id)"] },
  { semantics: "column subset changes", situation: "(id) -> (amount,id)", desired: "amount,id", recorded: ["id"], held: ["id"], expect: ["grant (amount) grantBecauseColumnsWidened", "record (amount,id)"] },
  { semantics: "grants this service did not record", situation: "recorded (id), held (id,name): revoke only (id)", recorded: ["id"], held: ["email,id"], expect: ["revoke (id) revokeBecauseNoPolicy", "forget (id)", "unmanaged noPolicy"] },
  { semantics: "grants this service did not record", situation: "desired full, held at table level outside the service: not ours, nothing", desired: "full", held: ["full"], expect: ["unchanged"] },
  { semantics: "grants this service did not record", situation: "desired (id), held at table level outside the service: never revoked, warn", desired: "id", held: ["full"], expect: ["unchanged", "unmanaged widerThanAllowed", "warning /wider than the columns Lake Formation allows/"] },
  { semantics: "grants this service did not record", situation: "a recorded grant removed by hand is granted again (drift repair)", desired: "full", recorded: ["full"], expect: ["grant full grantBecauseDriftRepair", "record full"] },
  { semantics: "grants this service did not record", situation: "recorded (amount,id), only (id) held: grant (amount) again", desired: "amount,id", recorded: ["amount,id"], held: ["id"], expect: ["grant (amount) grantBecauseDriftRepair", "record (amount,id)"] },
  { semantics: "grants this service did not record", situation: "PostgreSQL: a table-level REVOKE also drops column grants made outside: warn", recorded: ["full"], held: ["full", "email"], dialect: "postgres", expect: ["revoke full revokeBecauseNoPolicy", "forget full", "unmanaged noPolicy", "warning /also removes column-level grants made outside the service on \\(email\\)/"] },
  // Ownership modes (README "Adopting an existing warehouse"): `adopt (cols)` records a held grant with no SQL.
  { semantics: "ownership: adopt", situation: "held at table level, LF allows the table: adopt, no SQL", ownership: "adopt", desired: "full", held: ["full"], expect: ["adopt full"] },
  { semantics: "ownership: adopt", situation: "held exactly the allowed columns: adopt", ownership: "adopt", desired: "amount,id", held: ["amount,id"], expect: ["adopt (amount,id)"] },
  { semantics: "ownership: adopt", situation: "held part of the allowed columns: grant the rest, record all", ownership: "adopt", desired: "amount,id", held: ["id"], expect: ["grant (amount) grantBecausePolicy", "record (amount,id)"] },
  { semantics: "ownership: adopt", situation: "held at table level, LF allows columns: not adopted, a leak to fix", ownership: "adopt", desired: "id", held: ["full"], expect: ["unchanged", "unmanaged widerThanAllowed", "warning /wider than the columns/"] },
  { semantics: "ownership: adopt", situation: "held, no policy: reported, never revoked", ownership: "adopt", held: ["full"], expect: ["unmanaged noPolicy"] },
  { semantics: "ownership: recorded", situation: "held, no policy: reported, never revoked", held: ["amount"], expect: ["unmanaged noPolicy"] },
  { semantics: "ownership: recorded", situation: "held exactly what LF allows: not adopted", desired: "amount,id", held: ["amount,id"], expect: ["unchanged"] },
  { semantics: "ownership: authoritative", situation: "held, no policy: revoked as unmanaged", ownership: "authoritative", held: ["full"], expect: ["revoke full revokeBecauseUnmanaged", "unmanaged noPolicy"] },
  { semantics: "ownership: authoritative", situation: "held columns, no policy: revoked", ownership: "authoritative", held: ["amount,id"], expect: ["revoke (amount,id) revokeBecauseUnmanaged", "unmanaged noPolicy"] },
  { semantics: "ownership: authoritative", situation: "held at table level, LF allows columns: narrowed", ownership: "authoritative", desired: "id", held: ["full"], expect: ["revoke full revokeBecauseUnmanaged", "grant (id) grantBecausePolicy", "record (id)", "unmanaged widerThanAllowed"] },
  { semantics: "ownership: authoritative", situation: "held extra columns: only those revoked, the allowed adopted", ownership: "authoritative", desired: "id", held: ["email,id"], expect: ["revoke (email) revokeBecauseUnmanaged", "record (id)", "unmanaged widerThanAllowed"] },
  { semantics: "ownership: authoritative", situation: "column grants outside block the table grant (Redshift): revoke, then grant", ownership: "authoritative", desired: "full", held: ["id"], expect: ["revoke (id) revokeBecauseUnmanaged", "grant full grantBecausePolicy", "record full"] },
  { semantics: "ownership: authoritative", situation: "held exactly what LF allows: adopted", ownership: "authoritative", desired: "full", held: ["full"], expect: ["adopt full"] },
  // PostgreSQL: group x and role x are one role; a slot recorded under the other kind is re-recorded, with no SQL.
  { semantics: "group <-> role on PostgreSQL", situation: "recorded for the role, the group is desired, held: re-recorded only", dialect: "postgres", stateKind: "role", desired: "full", recorded: ["full"], held: ["full"], expect: ["forget full for role", "record full for group"] },
  { semantics: "group <-> role on PostgreSQL", situation: "re-recorded, and the columns change too", dialect: "postgres", stateKind: "role", desired: "amount,email", recorded: ["amount,id"], held: ["amount,id"], expect: ["revoke (id) revokeBecauseColumnsNarrowed", "grant (email) grantBecauseColumnsWidened", "forget (amount,id) for role", "record (amount,id) for group", "forget (id)", "record (amount,email)"] },
  { semantics: "group <-> role on PostgreSQL", situation: "recorded under both kinds: merged into the slot's row, every column of both", dialect: "postgres", stateKind: "role", alsoRecorded: ["amount"], desired: "amount,id", recorded: ["id"], held: ["amount,id"], expect: ["forget (id) for role", "record (amount,id) for group"] },
  { semantics: "group <-> role on PostgreSQL", situation: "re-recorded, removed by hand: granted again", dialect: "postgres", stateKind: "role", desired: "full", recorded: ["full"], expect: ["grant full grantBecauseDriftRepair", "forget full for role", "record full for group", "record full"] },
];

const slot: Grant = grant("analyst", "SELECT", "sales.orders");

function slotInput(row: Row): SlotInput {
  const heldColumns = new Set((row.held ?? []).filter((h) => h !== "full").flatMap((h) => h.split(",")));
  return {
    slot,
    desired: row.desired === undefined ? undefined : desired("analyst", "SELECT", path(row.desired)),
    recorded: [
      ...(row.alsoRecorded ?? []).map((r) => recorded("analyst", "SELECT", path(r))),
      ...(row.recorded ?? []).map((r) => ({ ...recorded("analyst", "SELECT", path(r)), ...(row.stateKind === undefined ? {} : { stateGrantee: { kind: row.stateKind, name: "analyst" } }) })),
    ],
    held: { full: (row.held ?? []).includes("full"), columns: heldColumns },
    exists: row.exists ?? true,
    tableColumns: row.exists === "table" ? undefined : new Set(row.columns ?? TABLE_COLUMNS),
    dialect: row.dialect ?? "redshift",
    ...(row.ownership === undefined ? {} : { ownership: row.ownership }),
  };
}

const form = (g: Grant) => (g.object.columns === null ? "full" : `(${g.object.columns.join(",")})`);

function lines(d: SlotDecision): string[] {
  return [
    ...d.changes.map((c) => `${c.op} ${form(c)} ${c.reason}`),
    ...d.records.map((r) => `${r.adopt === true ? "adopt" : r.op} ${form(r.grant)}${r.rekind === true ? ` for ${r.grant.grantee.kind}` : ""}`),
    ...(d.pending === undefined ? [] : [`pending ${d.pending.missing} ${form(d.pending)}`]),
    ...(d.unchanged ? ["unchanged"] : []),
    ...(d.unmanaged === undefined ? [] : [`unmanaged ${d.unmanaged}`]),
  ];
}

describe("decideSlot: the README's Semantics table, one row per situation", () => {
  it.each(rows)("$semantics: $situation", (row) => {
    const decision = decideSlot(slotInput(row));
    const warning = row.expect.find((e) => e.startsWith("warning "));
    expect(lines(decision)).toEqual(row.expect.filter((e) => !e.startsWith("warning ")));
    if (warning === undefined) expect(decision.warning).toBeUndefined();
    else expect(decision.warning).toMatch(new RegExp(warning.slice("warning /".length, -1)));
  });

  it("every change carries the desired grant's explanation, or the recorded one's when nothing is desired", () => {
    const input = slotInput({ semantics: "", situation: "", recorded: ["full"], held: ["full"], expect: [] });
    const decision = decideSlot({ ...input, recorded: [recorded("analyst", "SELECT", "sales.orders", ["policy-a"])] });
    expect(decision.changes.map((c) => c.because)).toEqual([["policy-a"]]);
  });
});
