import { compareStrings, type DesiredGrant, type Dialect, type Grant, type Grantee } from "../grants.js";
import type { OwnershipMode } from "../ownership.js";
import type { Change, ChangeOp, ChangeReason, PendingGrant, PendingReason, RecordChange, UnmanagedGrant } from "./types.js";

/**
 * Everything the planner knows of one slot: one grantee x one object (schema or table) x one
 * privilege. Column subsets of a table share its slot, so a move between full-table and
 * column-subset access is one decision.
 */
export interface SlotInput {
  /** The slot itself (its columns are null). */
  readonly slot: Grant;
  /** What Lake Formation allows now, after mapping; undefined: no policy grants it. */
  readonly desired: DesiredGrant | undefined;
  /**
   * What the state says this service granted: normally one grant, two when it holds both forms.
   * `stateGrantee`: PostgreSQL only, the state holds it under the other kind of the same role (kinds.ts).
   */
  readonly recorded: readonly (Grant & { readonly because: readonly string[]; readonly stateGrantee?: Grantee })[];
  /** What the target holds now, by anyone's grant: at table (or schema) level, and column by column. */
  readonly held: { readonly full: boolean; readonly columns: ReadonlySet<string> };
  /** true, or what the target lacks: the grantee, the schema or the table. */
  readonly exists: true | Exclude<PendingReason, "columns">;
  /** The target table's columns (undefined for a schema slot or a missing table). */
  readonly tableColumns: ReadonlySet<string> | undefined;
  readonly dialect: Dialect;
  /** Who owns held grants in this slot (README "Adopting an existing warehouse"); default `recorded`. */
  readonly ownership?: OwnershipMode;
}

export interface SlotDecision {
  /** Revokes before grants, each with its reason: applied in one transaction. */
  readonly changes: readonly Change[];
  /** The state rows that follow the changes. */
  readonly records: readonly RecordChange[];
  /** The part of the desired grant the target cannot take yet. */
  readonly pending: PendingGrant | undefined;
  readonly warning: string | undefined;
  /** The target already holds what Lake Formation allows: nothing to do. */
  readonly unchanged: boolean;
  /** Held access no policy explains (reported in every mode; revoked in `authoritative`). */
  readonly unmanaged: UnmanagedGrant["why"] | undefined;
}

/**
 * Desired vs recorded vs held for one slot -> its changes, state rows and reasons. Each branch is a
 * row of the README's Semantics table (quoted in the comments).
 */
export function decideSlot(input: SlotInput): SlotDecision {
  const outcome = new Outcome(input);
  outcome.rekindRecorded();
  const allowed = allowedNow(input);
  if (input.exists !== true && input.desired === undefined) {
    // "object or grantee missing in Redshift": a recorded grant went with its object; only the state needs correcting.
    outcome.forgetRecorded();
  } else if (allowed.full) {
    // "table's effective tags match, every column matches": the permissions at table level.
    toWholeTable(input, outcome);
  } else if (allowed.columns.length > 0) {
    // "some columns match": SELECT on exactly those columns.
    toColumns(input, allowed.columns, outcome);
  } else {
    // "no column matches" (or no policy, or pending): revoke what this service recorded, nothing else.
    toNothing(input, outcome);
  }
  warnColumnGrantsLost(input, outcome);
  return outcome.decision(allowed.pending);
}

/**
 * PostgreSQL: `REVOKE p ON t` also takes away the grantee's column-level `p` on t, including
 * column grants the service never made (aws-facts §7). They are not re-granted: the plan says so.
 */
function warnColumnGrantsLost(input: SlotInput, o: Outcome): void {
  if (input.dialect !== "postgres" || input.held.columns.size === 0) return;
  if (!o.changes.some((c) => c.op === "revoke" && c.object.columns === null)) return;
  const regranted = new Set(o.changes.flatMap((c) => (c.op === "grant" ? (c.object.columns ?? []) : [])));
  const lost = [...input.held.columns].filter((c) => !o.recordedColumns.has(c) && !regranted.has(c)).sort(compareStrings);
  if (lost.length === 0) return;
  const note = `${describeSlot(input.slot)}: the table-level REVOKE also removes column-level grants made outside the service on (${lost.join(", ")}); PostgreSQL has no way to keep them, grant them again by hand if they are wanted`;
  o.warning = o.warning === undefined ? note : `${o.warning}; ${note}`;
}

interface Allowed {
  readonly full: boolean;
  /** Sorted, present in the target. */
  readonly columns: readonly string[];
  readonly pending: PendingGrant | undefined;
}

const NO_COLUMNS: ReadonlySet<string> = new Set();
const NO_LIST: readonly string[] = [];
const NOTHING: Allowed = { full: false, columns: NO_LIST, pending: undefined };
const FULL: Allowed = { full: true, columns: NO_LIST, pending: undefined };

/** What may be granted now: the desired grant minus what the target lacks ("object or grantee missing in Redshift": pending). */
function allowedNow({ desired, exists, tableColumns }: SlotInput): Allowed {
  if (desired === undefined) return NOTHING;
  if (exists !== true) return { ...NOTHING, pending: { ...desired, missing: exists } };
  if (desired.object.columns === null) return FULL;
  const present = tableColumns!;
  if (desired.object.columns.every((c) => present.has(c))) return { full: false, columns: desired.object.columns, pending: undefined };
  const columns = desired.object.columns.filter((c) => present.has(c));
  const missing = desired.object.columns.filter((c) => !present.has(c));
  const pending: PendingGrant | undefined = missing.length > 0 ? { ...desired, object: { ...desired.object, columns: missing }, missing: "columns" } : undefined;
  return { full: false, columns, pending };
}

function toWholeTable(input: SlotInput, o: Outcome): void {
  const { held } = input;
  const foreignColumns = [...held.columns].filter((c) => !o.recordedColumns.has(c)).sort(compareStrings);
  if (input.dialect === "redshift" && input.slot.object.table !== null && !held.full && foreignColumns.length > 0) {
    if (o.mode === "authoritative") {
      // "full table <-> column subset" with column grants made outside the service: the owner revokes them first.
      o.change("revoke", [...new Set([...foreignColumns, ...o.recordedColumnList.filter((c) => held.columns.has(c))])].sort(compareStrings), "revokeBecauseUnmanaged");
      o.change("grant", null, o.recordedFull ? "grantBecauseDriftRepair" : "grantBecausePolicy");
      if (o.recordedColumns.size > 0) o.record("forget", o.recordedColumnList);
      if (!o.recordedFull) o.record("record", null);
      return;
    }
    // "full table <-> column subset": Redshift errors on a table-level GRANT while column-level grants of the privilege exist.
    o.warning = `${describeSlot(input.slot)}: column-level grants made outside the service block the table-level grant Lake Formation allows; revoke them by hand`;
  } else if (o.recordedFull) {
    if (held.full) o.unchanged = true;
    else {
      // "a recorded grant removed by hand is granted again (drift repair)"
      o.revokeHeldRecordedColumns("revokeBecauseFormChanged");
      o.change("grant", null, "grantBecauseDriftRepair");
      o.record("record", null);
    }
    if (o.recordedColumns.size > 0) o.record("forget", o.recordedColumnList);
  } else if (o.recordedColumns.size > 0) {
    // "full table <-> column subset": the old form is revoked before the new one is granted, in one step.
    o.revokeHeldRecordedColumns("revokeBecauseFormChanged");
    o.change("grant", null, "grantBecauseFormChanged");
    o.record("forget", o.recordedColumnList);
    o.record("record", null);
  } else if (held.full) {
    // "grants this service did not record": held through a grant made outside the service; not
    // ours, not recorded, unless the grantee's mode adopts it (exactly the form Lake Formation allows).
    if (o.mode === "recorded") o.unchanged = true;
    else o.adopt(null);
  } else {
    o.change("grant", null, "grantBecausePolicy");
    o.record("record", null);
  }
}

function toColumns(input: SlotInput, wanted: readonly string[], o: Outcome): void {
  const { held } = input;
  const want: ReadonlySet<string> = o.recordedColumns.size === 0 ? NO_COLUMNS : new Set(wanted);
  if (o.recordedFull) {
    // "full table <-> column subset": revoke the table level before granting the columns.
    if (held.full) o.change("revoke", null, "revokeBecauseFormChanged");
    o.change("grant", wanted, "grantBecauseFormChanged");
    o.record("forget", null);
    o.record("record", wanted);
    if (o.recordedColumns.size > 0) o.record("forget", o.recordedColumnList.filter((c) => !want.has(c)));
    return;
  }
  if (held.full && o.mode === "authoritative") {
    // Wider than Lake Formation allows and not ours: the owner narrows it to the allowed columns.
    o.unmanaged = "widerThanAllowed";
    o.change("revoke", null, "revokeBecauseUnmanaged");
    o.change("grant", wanted, o.recordedColumns.size > 0 ? "grantBecauseFormChanged" : "grantBecausePolicy");
    if (o.recordedColumns.size > 0) o.record("forget", o.recordedColumnList.filter((c) => !want.has(c)));
    o.record("record", wanted);
    return;
  }
  if (held.full) {
    // "grants this service did not record": a table-level grant made outside the service is never
    // revoked; a column GRANT under it has no effect in Redshift (aws-facts §6.2) and would be planned on every run.
    o.unmanaged = "widerThanAllowed";
    o.warning = `${describeSlot(input.slot)}: held at table level through a grant made outside the service, wider than the columns Lake Formation allows`;
    if (o.recordedColumns.size === 0) {
      o.unchanged = true;
      return;
    }
  }
  // "column subset changes": only leaving columns are revoked and only joining ones granted
  // (REVOKE SELECT (a, b, c) also takes away a column the new subset keeps, DESIGN §3).
  const narrowed = o.recordedColumnList.filter((c) => !want.has(c));
  const foreign = held.columns.size === 0 ? NO_LIST : heldOutside(held.columns, wanted, o.recordedColumns);
  if (foreign.length > 0) o.unmanaged = "widerThanAllowed";
  // `authoritative`: held columns Lake Formation does not allow go too, recorded or not.
  const revoke = o.mode === "authoritative" && foreign.length > 0 ? [...narrowed.filter((c) => held.columns.has(c)), ...foreign].sort(compareStrings) : narrowed.filter((c) => held.columns.has(c));
  const joins = (c: string) => !held.full && !held.columns.has(c);
  const grant = held.columns.size === 0 && !held.full ? wanted : wanted.filter(joins);
  const widened = grant.some((c) => !o.recordedColumns.has(c));
  if (revoke.length > 0) o.change("revoke", revoke, narrowed.length > 0 ? "revokeBecauseColumnsNarrowed" : "revokeBecauseUnmanaged");
  if (grant.length > 0) o.change("grant", grant, widened ? (o.recordedColumns.size > 0 ? "grantBecauseColumnsWidened" : "grantBecausePolicy") : "grantBecauseDriftRepair");
  if (narrowed.length > 0) o.record("forget", narrowed);
  // A slot's state row lists its columns: after a change, record the columns that stay, not only those that join.
  const toRecord = grant === wanted ? wanted : wanted.filter((c) => o.recordedColumns.has(c) || joins(c));
  const adoptable = o.mode !== "recorded" && toRecord.length < wanted.length && wanted.every((c) => held.columns.has(c) || joins(c));
  if (adoptable && o.recordedColumns.size === 0 && grant.length === 0 && revoke.length === 0) {
    // `adopt`: the target holds exactly the columns Lake Formation allows: record them, no SQL.
    o.adopt(wanted);
    return;
  }
  // With `adopt`, held columns that Lake Formation allows join the record of a slot that changes anyway.
  const recordNow = adoptable ? wanted : toRecord;
  if ((grant.length > 0 || narrowed.length > 0 || revoke.length > 0) && recordNow.length > 0) o.record("record", recordNow);
  if (o.changes.length === 0 && narrowed.length === 0) o.unchanged = true;
}

/** Held columns Lake Formation does not allow and the service did not record, sorted. */
function heldOutside(held: ReadonlySet<string>, wanted: readonly string[], recorded: ReadonlySet<string>): string[] {
  const allowed = new Set(wanted);
  return [...held].filter((c) => !allowed.has(c) && !recorded.has(c)).sort(compareStrings);
}

function toNothing(input: SlotInput, o: Outcome): void {
  const { held } = input;
  // "grants this service did not record: never revoked": only recorded forms, and only what is held.
  if (o.recordedFull && held.full && input.exists === true) o.change("revoke", null, "revokeBecauseNoPolicy");
  const revokeColumns = o.recordedColumnList.filter((c) => held.columns.has(c));
  if (revokeColumns.length > 0 && input.exists === true && !held.full) o.change("revoke", revokeColumns, "revokeBecauseNoPolicy");
  const foreignFull = held.full && !o.recordedFull;
  const foreignColumns = [...held.columns].filter((c) => !o.recordedColumns.has(c)).sort(compareStrings);
  if (foreignFull || foreignColumns.length > 0) {
    // Held, not ours, and no policy explains it: reported in every mode, revoked only by an owner.
    o.unmanaged = "noPolicy";
    if (o.mode === "authoritative" && input.exists === true) {
      if (foreignFull) o.change("revoke", null, "revokeBecauseUnmanaged");
      else if (!held.full) o.change("revoke", foreignColumns, "revokeBecauseUnmanaged");
    }
  }
  o.forgetRecorded();
}

/** The decision as it is built: the slot's changes and state rows, in order. */
class Outcome implements SlotDecision {
  readonly changes: Change[] = [];
  pending: PendingGrant | undefined;
  readonly records: RecordChange[] = [];
  warning: string | undefined;
  unchanged = false;
  unmanaged: UnmanagedGrant["why"] | undefined;
  readonly mode: OwnershipMode;
  readonly recordedFull: boolean;
  readonly recordedColumns: ReadonlySet<string>;
  /** recordedColumns, sorted. */
  readonly recordedColumnList: readonly string[];
  readonly #input: SlotInput;
  readonly #because: readonly string[];

  constructor(input: SlotInput) {
    this.#input = input;
    const { recorded } = input;
    this.mode = input.ownership ?? "recorded";
    this.recordedFull = recorded.some((g) => g.object.columns === null);
    this.recordedColumnList = recorded.length === 0 ? NO_LIST : [...new Set(recorded.flatMap((g) => g.object.columns ?? []))].sort(compareStrings);
    this.recordedColumns = recorded.length === 0 ? NO_COLUMNS : new Set(this.recordedColumnList);
    this.#because = input.desired?.because ?? input.recorded[0]?.because ?? [];
  }

  change(op: ChangeOp, columns: readonly string[] | null, reason: ChangeReason): void {
    const { grantee, privilege, object } = this.#input.slot;
    this.changes.push({ op, grantee, privilege, object: columns === null ? object : { schema: object.schema, table: object.table, columns }, because: this.#because, reason });
  }

  record(op: "record" | "forget", columns: readonly string[] | null): void {
    const { grantee, privilege, object } = this.#input.slot;
    const grant: Grant = { grantee, privilege, object: columns === null ? object : { schema: object.schema, table: object.table, columns } };
    this.records.push(this.#input.recorded.length === 0 ? { op, grant, because: this.#because, fresh: true } : { op, grant, because: this.#because });
  }

  /** `~ adopt`: record a held grant as owned; no SQL. */
  adopt(columns: readonly string[] | null): void {
    const { grantee, privilege, object } = this.#input.slot;
    const grant: Grant = { grantee, privilege, object: { schema: object.schema, table: object.table, columns } };
    this.records.push({ op: "record", grant, because: this.#because, fresh: true, adopt: true });
  }

  /**
   * PostgreSQL: group x and role x are one role, so a grant recorded under the other kind is the
   * slot's own privilege: its state row moves to the slot's kind (no SQL) before anything else.
   */
  rekindRecorded(): void {
    const moved = this.#input.recorded.filter((g) => g.stateGrantee !== undefined);
    if (moved.length === 0) return;
    const { grantee, privilege, object } = this.#input.slot;
    for (const g of moved) this.records.push({ op: "forget", grant: { grantee: g.stateGrantee!, privilege, object: g.object }, because: g.because, rekind: true });
    // A row the slot's kind already holds merges with it: the column form lists every column of both.
    const record = (columns: readonly string[] | null) =>
      this.records.push({ op: "record", grant: { grantee, privilege, object: columns === null ? object : { schema: object.schema, table: object.table, columns } }, because: this.#because, rekind: true });
    if (moved.some((g) => g.object.columns === null)) record(null);
    if (moved.some((g) => g.object.columns !== null)) record(this.recordedColumnList);
  }

  /** Revoke the recorded columns the target still holds (before a change of form). */
  revokeHeldRecordedColumns(reason: ChangeReason): void {
    const revoke = this.recordedColumnList.filter((c) => this.#input.held.columns.has(c));
    if (revoke.length > 0) this.change("revoke", revoke, reason);
  }

  forgetRecorded(): void {
    if (this.recordedFull) this.record("forget", null);
    if (this.recordedColumns.size > 0) this.record("forget", this.recordedColumnList);
  }

  decision(pending: PendingGrant | undefined): SlotDecision {
    this.pending = pending;
    // A re-recorded slot changes the state: counted as a state-only change, not as unchanged.
    if (this.unchanged && this.records.some((r) => r.rekind === true)) this.unchanged = false;
    return this;
  }
}

export function describeSlot(grant: Grant): string {
  const object = grant.object.table === null ? `schema ${grant.object.schema}` : `${grant.object.schema}.${grant.object.table}`;
  return `${grant.privilege} on ${object} for ${grant.grantee.kind} ${grant.grantee.name}`;
}
