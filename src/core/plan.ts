import type { SafetyConfig } from "../config/schema.js";
import type { InventoryLike } from "./inventory-view.js";
import { type Diagnostic, formatDiagnostic, warning } from "./diagnostics.js";
import {
  type DesiredGrant,
  type Dialect,
  type Grant,
  type Grantee,
  type ObjectRef,
  type Privilege,
  type RecordedGrant,
  compareStrings,
  SlotMap,
  granteeKey,
} from "./grants.js";

export type ChangeOp = "grant" | "revoke";

/** Why a change is in the plan, named as a sentence (Terraform's ResourceInstanceChangeActionReason). */
export type ChangeReason =
  | "grantBecausePolicy"
  | "grantBecauseDriftRepair"
  | "grantBecauseColumnsWidened"
  | "grantBecauseFormChanged"
  | "revokeBecauseNoPolicy"
  | "revokeBecauseColumnsNarrowed"
  | "revokeBecauseFormChanged";

export interface Change extends Grant {
  readonly op: ChangeOp;
  readonly because: readonly string[];
  readonly reason: ChangeReason;
}

/** A row change in the state schema; same shape as the state store's StateRowChange. */
export interface RecordChange {
  readonly op: "record" | "forget";
  readonly grant: Grant;
  readonly because: readonly string[];
  /** No row was recorded for this slot when planning: the state store can skip the DELETE before its INSERT. */
  readonly fresh?: boolean;
}

/** One slot's changes, applied atomically: revokes first, then grants, then its state rows. */
export interface PlanStep {
  readonly changes: readonly Change[];
  readonly records: readonly RecordChange[];
}

export type PendingReason = "grantee" | "schema" | "table" | "columns";

export interface PendingGrant extends Grant {
  readonly missing: PendingReason;
  readonly because: readonly string[];
}

export interface Plan {
  /** Sorted (schema, table, grantee, privilege, op): two plans of one state are byte-identical. */
  readonly changes: readonly Change[];
  /** The same changes in execution units, plus state-only corrections (forgetting grants whose object is gone). */
  readonly steps: readonly PlanStep[];
  readonly pending: readonly PendingGrant[];
  readonly warnings: readonly string[];
  readonly summary: { readonly grants: number; readonly revokes: number; readonly pending: number; readonly unchanged: number; readonly stateOnly: number };
  readonly safety: { readonly refused: boolean; readonly forced: boolean; readonly reasons: readonly string[] };
  /** False while any desired grant is pending. Apply does not depend on it. */
  readonly complete: boolean;
  /** True when apply would do anything (SQL or state rows) and safety allows it. */
  readonly applyable: boolean;
}

export interface PlanInput {
  readonly desired: readonly DesiredGrant[];
  readonly recorded: readonly RecordedGrant[];
  readonly inventory: InventoryLike;
  readonly dialect: Dialect;
  readonly policyCount: number;
  readonly safety: SafetyConfig;
  readonly force: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

/** What the planner knows of one slot (grantee x object x privilege). */
interface SlotSides {
  desired: DesiredGrant | undefined;
  /** Normally one grant; two when the state holds both a table-level and a column-level form. */
  recorded: RecordedGrant[] | undefined;
  /** The target holds the privilege at table (or schema) level. */
  heldFull: boolean;
  /** Columns the target holds it on, column by column; null: none. */
  heldColumns: readonly string[] | null;
}

interface Held {
  readonly full: boolean;
  readonly columns: ReadonlySet<string>;
}

const NO_COLUMNS: ReadonlySet<string> = new Set();

/**
 * Desired vs recorded vs actual -> Plan (DESIGN §3, §4.2). Revokes only what the state says this
 * service granted; re-grants recorded grants that vanished (drift); moves between full-table and
 * column-subset access revoke the old form before granting the new one, in one step.
 */
export function planChanges(input: PlanInput): Plan {
  const { inventory } = input;
  const diagnostics: Diagnostic[] = [...input.diagnostics];
  // One map for the three sides of every slot: one lookup per grant read, one pass to plan.
  const bySlot = new SlotMap<SlotSides>();
  const sides = (): SlotSides => ({ desired: undefined, recorded: undefined, heldFull: false, heldColumns: null });
  for (const grant of input.desired) bySlot.upsert(grant, sides).desired = grant;
  let recordedSlots = 0;
  for (const grant of input.recorded) {
    const entry = bySlot.upsert(grant, sides);
    if (entry.recorded === undefined) {
      entry.recorded = [grant];
      recordedSlots++;
    } else entry.recorded.push(grant);
  }
  for (const grant of inventory.held) {
    const entry = bySlot.upsert(grant, sides);
    const columns = grant.object.columns;
    if (columns === null) entry.heldFull = true;
    else entry.heldColumns = entry.heldColumns === null ? columns : [...new Set([...entry.heldColumns, ...columns])];
  }

  const steps: PlanStep[] = [];
  const exists = new ExistenceIndex(inventory);
  const pending: PendingGrant[] = [];
  let unchanged = 0;

  const visit = (entry: SlotSides): void => {
    const { desired, recorded: recordedEntry } = entry;
    const isHeld = entry.heldFull || entry.heldColumns !== null;
    // Fast paths for the two cases that dominate large catalogs (the steady state, and a first
    // grant); they decide exactly what the general logic below would, without its allocations.
    if (desired !== undefined && recordedEntry?.length === 1 && isHeld) {
      const recordedColumns = recordedEntry[0]!.object.columns;
      if (sameColumns(desired.object.columns, recordedColumns) && heldExactly(entry, desired.object.columns)) {
        unchanged++;
        return;
      }
    }
    if (desired !== undefined && desired.object.columns === null && recordedEntry === undefined && !isHeld && exists.of(desired) === true) {
      const first: Change = { op: "grant", grantee: desired.grantee, privilege: desired.privilege, object: desired.object, because: desired.because, reason: "grantBecausePolicy" };
      steps.push({ changes: [first], records: [{ op: "record", grant: desired, because: desired.because, fresh: true }] });
      return;
    }
    const recordedList = recordedEntry ?? [];
    const any = (desired ?? recordedList[0])!;
    const slot: Grant = { grantee: any.grantee, privilege: any.privilege, object: { schema: any.object.schema, table: any.object.table, columns: null } };
    const held: Held = { full: entry.heldFull, columns: entry.heldColumns === null ? NO_COLUMNS : new Set(entry.heldColumns) };
    const recFull = recordedList.some((g) => g.object.columns === null);
    const recCols = new Set(recordedList.flatMap((g) => g.object.columns ?? []));
    const recBecause = recordedList[0]?.because ?? [];
    const objectState = exists.of(slot);

    // What may be granted now: the desired grant minus what the target lacks (pending).
    let wantFull = false;
    let wantCols: string[] = [];
    if (desired !== undefined) {
      if (objectState !== true) {
        pending.push({ ...desired, missing: objectState });
      } else if (desired.object.columns === null) {
        wantFull = true;
      } else {
        const present = exists.columns(slot.object.schema, slot.object.table!)!;
        wantCols = desired.object.columns.filter((c) => present.has(c));
        const missing = desired.object.columns.filter((c) => !present.has(c));
        if (missing.length > 0) {
          pending.push({ ...desired, object: { ...desired.object, columns: missing }, missing: "columns" });
        }
      }
    }
    const because = desired?.because ?? recBecause;
    const changes: Change[] = [];
    const records: RecordChange[] = [];
    const change = (op: ChangeOp, columns: readonly string[] | null, reason: ChangeReason) =>
      changes.push({ op, grantee: slot.grantee, privilege: slot.privilege, object: withColumns(slot.object, columns), because, reason });
    const fresh = recordedList.length === 0;
    const record = (op: "record" | "forget", columns: readonly string[] | null) =>
      records.push({ op, grant: { ...slot, object: withColumns(slot.object, columns) }, because, ...(fresh ? { fresh } : {}) });
    const forgetRecorded = () => {
      if (recFull) record("forget", null);
      if (recCols.size > 0) record("forget", sorted(recCols));
    };

    if (objectState !== true && desired === undefined) {
      // The object or grantee is gone: the grant went with it. Only the state needs correcting.
      forgetRecorded();
    } else if (wantFull) {
      if (input.dialect === "redshift" && slot.object.table !== null && !held.full && [...held.columns].some((c) => !recCols.has(c))) {
        // Redshift errors on a table-level GRANT while column-level grants of the same privilege exist.
        diagnostics.push(warning(`${describeSlot(slot)}: column-level grants made outside the service block the table-level grant Lake Formation allows; revoke them by hand`));
      } else if (recFull) {
        if (!held.full) {
          const revoke = sorted(recCols).filter((c) => held.columns.has(c));
          if (revoke.length > 0) change("revoke", revoke, "revokeBecauseFormChanged");
          change("grant", null, "grantBecauseDriftRepair");
          record("record", null);
        } else unchanged++;
        if (recCols.size > 0) record("forget", sorted(recCols));
      } else if (recCols.size > 0) {
        const revoke = sorted(recCols).filter((c) => held.columns.has(c));
        if (revoke.length > 0) change("revoke", revoke, "revokeBecauseFormChanged");
        change("grant", null, "grantBecauseFormChanged");
        record("forget", sorted(recCols));
        record("record", null);
      } else if (held.full) {
        unchanged++; // held through a grant made outside the service: not ours, not recorded
      } else {
        change("grant", null, "grantBecausePolicy");
        record("record", null);
      }
    } else if (wantCols.length > 0) {
      const want = new Set(wantCols);
      if (recFull) {
        if (held.full) change("revoke", null, "revokeBecauseFormChanged");
        change("grant", wantCols, "grantBecauseFormChanged");
        record("forget", null);
        record("record", wantCols);
        if (recCols.size > 0) record("forget", sorted(recCols).filter((c) => !want.has(c)));
      } else if (held.full && recCols.size === 0) {
        diagnostics.push(warning(`${describeSlot(slot)}: held at table level through a grant made outside the service, wider than the columns Lake Formation allows`));
        unchanged++;
      } else {
        const narrowed = sorted(recCols).filter((c) => !want.has(c));
        const revoke = narrowed.filter((c) => held.columns.has(c));
        // A column GRANT while the table level is held has no effect in Redshift (aws-facts §6.2): it
        // would be planned again on every run.
        if (held.full) diagnostics.push(warning(`${describeSlot(slot)}: held at table level through a grant made outside the service, wider than the columns Lake Formation allows`));
        const grant = held.full ? [] : wantCols.filter((c) => !held.columns.has(c));
        const widened = grant.some((c) => !recCols.has(c));
        // REVOKE SELECT (a, b, c) also takes away a column the new subset keeps: revoke only the
        // columns that leave, grant only those that join (DESIGN §3).
        if (revoke.length > 0) change("revoke", revoke, "revokeBecauseColumnsNarrowed");
        if (grant.length > 0) change("grant", grant, widened ? (recCols.size > 0 ? "grantBecauseColumnsWidened" : "grantBecausePolicy") : "grantBecauseDriftRepair");
        if (narrowed.length > 0) record("forget", narrowed);
        const toRecord = wantCols.filter((c) => recCols.has(c) || grant.includes(c));
        if (grant.length > 0 && toRecord.length > 0) record("record", toRecord);
        if (changes.length === 0 && narrowed.length === 0) unchanged++;
      }
    } else {
      // Nothing may be granted (no policy, or the desired grant is pending).
      if (recFull && held.full && objectState === true) change("revoke", null, "revokeBecauseNoPolicy");
      const revokeCols = sorted(recCols).filter((c) => held.columns.has(c));
      if (revokeCols.length > 0 && objectState === true && !held.full) change("revoke", revokeCols, "revokeBecauseNoPolicy");
      forgetRecorded();
    }
    if (changes.length > 0 || records.length > 0) steps.push({ changes, records });
  };
  // Slots only held (through grants made outside the service) are not the service's business.
  for (const entry of bySlot.sortedValues()) if (entry.desired !== undefined || entry.recorded !== undefined) visit(entry);

  // Steps are sorted by slot and each step holds one slot's changes: ordering them by op within the
  // step gives the (schema, table, grantee, privilege, op) order without a global sort.
  const changes = steps.flatMap((s) => (s.changes.length > 1 ? [...s.changes].sort((a, b) => compareStrings(a.op, b.op)) : s.changes));
  const grants = changes.filter((c) => c.op === "grant").length;
  const revokes = changes.length - grants;
  const stateOnly = steps.filter((s) => s.changes.length === 0).length;
  const safety = checkSafety(input, revokes, recordedSlots);
  // Slots are visited in plan order and each yields at most one pending grant: already sorted.
  const pendingSorted = pending;
  return {
    changes,
    steps,
    pending: pendingSorted,
    // The planner's own warnings follow the input's order of grants: sorted, so plans compare byte for byte.
    warnings: [...new Set([...input.diagnostics.map(formatDiagnostic), ...diagnostics.slice(input.diagnostics.length).map(formatDiagnostic).sort(compareStrings)])],
    summary: { grants, revokes, pending: pending.length, unchanged, stateOnly },
    safety,
    complete: pendingSorted.length === 0,
    applyable: steps.length > 0 && !safety.refused,
  };
}

function checkSafety(input: PlanInput, revokes: number, recordedSlots: number): Plan["safety"] {
  const reasons: string[] = [];
  if (input.policyCount === 0 && recordedSlots > 0) {
    reasons.push(`the source has no policies while ${recordedSlots} grants are recorded: the source looks broken`);
  }
  if (revokes > input.safety.maxRevokes) {
    reasons.push(`the plan revokes ${revokes} grants, more than safety.maxRevokes (${input.safety.maxRevokes})`);
  }
  if (recordedSlots > 0 && revokes / recordedSlots > input.safety.maxRevokeRatio) {
    reasons.push(`the plan revokes ${revokes} of ${recordedSlots} recorded grants, more than safety.maxRevokeRatio (${input.safety.maxRevokeRatio})`);
  }
  return { refused: reasons.length > 0 && !input.force, forced: reasons.length > 0 && input.force, reasons };
}

/** What exists in the target, looked up by names without building a key string per grant. */
class ExistenceIndex {
  readonly #inventory: InventoryLike;
  readonly #grantees = { group: new Map<string, boolean>(), role: new Map<string, boolean>() };
  readonly #tables = new Map<string, Map<string, ReadonlySet<string>>>();

  constructor(inventory: InventoryLike) {
    this.#inventory = inventory;
    for (const [key, columns] of inventory.tables) {
      // tableKey joins schema and table by NUL, which no schema name contains.
      const cut = key.indexOf("\u0000");
      const schema = key.slice(0, cut);
      let tables = this.#tables.get(schema);
      if (tables === undefined) this.#tables.set(schema, (tables = new Map()));
      tables.set(key.slice(cut + 1), columns);
    }
  }

  /** true, or what is missing in the target for this grant. */
  of(grant: Grant): true | Exclude<PendingReason, "columns"> {
    const names = this.#grantees[grant.grantee.kind];
    let grantee = names.get(grant.grantee.name);
    if (grantee === undefined) names.set(grant.grantee.name, (grantee = this.#inventory.grantees.has(granteeKey(grant.grantee))));
    if (!grantee) return "grantee";
    if (!this.#inventory.schemas.has(grant.object.schema)) return "schema";
    if (grant.object.table !== null && this.columns(grant.object.schema, grant.object.table) === undefined) return "table";
    return true;
  }

  columns(schema: string, table: string): ReadonlySet<string> | undefined {
    return this.#tables.get(schema)?.get(table);
  }
}

function withColumns(object: ObjectRef, columns: readonly string[] | null): ObjectRef {
  return { schema: object.schema, table: object.table, columns };
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort(compareStrings);
}

function describeSlot(grant: Grant): string {
  const object = grant.object.table === null ? `schema ${grant.object.schema}` : `${grant.object.schema}.${grant.object.table}`;
  return `${grant.privilege} on ${object} for ${grant.grantee.kind} ${grant.grantee.name}`;
}


function sameColumns(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

/** The target holds exactly this form: table level alone, or exactly these (sorted) columns. */
function heldExactly(entry: SlotSides, columns: readonly string[] | null): boolean {
  const held = entry.heldColumns;
  if (columns === null) return entry.heldFull && held === null;
  if (entry.heldFull || held === null || held.length !== columns.length) return false;
  // The inventory lists a slot's columns sorted; merged lists (rare) are compared as sets.
  return columns.every((c, i) => held[i] === c) || columns.every((c) => held.includes(c));
}

export type { Grantee, Privilege };
