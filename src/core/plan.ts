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
  granteeKey,
  PRIVILEGES,
} from "./grants.js";
import { GrantColumns, GrantRegistry } from "./grant-columns.js";

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
  /** Grant objects, or columns over `registry` (the mapper's output on large catalogs). */
  readonly desired: readonly DesiredGrant[] | GrantColumns;
  readonly recorded: readonly RecordedGrant[] | GrantColumns;
  readonly inventory: InventoryLike;
  /** The registry any GrantColumns input uses; object inputs are interned into it (a new one when absent). */
  readonly registry?: GrantRegistry;
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
  recorded: (Grant & { readonly because: readonly string[] })[] | undefined;
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
  // All three sides as integer columns over one registry, each in plan order, then merged: the
  // steady state and first grants are decided on integers; only other slots become objects.
  const registry = input.registry ?? new GrantRegistry();
  const columnsOf = (grants: readonly (Grant & { readonly because?: readonly string[] })[] | GrantColumns): GrantColumns =>
    grants instanceof GrantColumns ? grants : GrantColumns.from(grants, registry);
  const D = columnsOf(input.desired);
  const R = columnsOf(input.recorded);
  const H = columnsOf(inventory.held);
  const objectRank = registry.objectRanks();
  const granteeRank = registry.granteeRanks();
  // Each side in plan order: `xOrder[k]` is a row, `xKeys[k]` its position, ascending.
  const { order: dOrder, keys: dKeys } = D.planOrder(objectRank, granteeRank);
  const { order: rOrder, keys: rKeys } = R.planOrder(objectRank, granteeRank);
  const { order: hOrder, keys: hKeys } = H.planOrder(objectRank, granteeRank);

  const steps: PlanStep[] = [];
  // Each step's plan key, and the first grants kept as desired rows with theirs.
  const stepKeys: number[] = [];
  const freshRows: number[] = [];
  const freshKeys: number[] = [];
  const exists = new ExistenceIndex(inventory);
  const grantState = new Int8Array(registry.grantees.length); // 0 unknown, 1 exists, 2 missing
  const objectState = new Int8Array(registry.objects.length);
  const existsAt = (grantee: number, object: number): boolean => {
    if (grantState[grantee] === 0) grantState[grantee] = exists.granteeExists(registry.grantees[grantee]!) ? 1 : 2;
    if (objectState[object] === 0) objectState[object] = exists.objectState(registry.objects[object]!) === true ? 1 : 2;
    return grantState[grantee] === 1 && objectState[object] === 1;
  };
  // Whether the target table has every column of a list (0: the whole object, nothing to check).
  const columnsExist = (object: number, columns: number): boolean => {
    if (columns === 0) return true;
    const ref = registry.objects[object]!;
    const present = ref.table === null ? undefined : exists.columns(ref.schema, ref.table);
    return present !== undefined && registry.columnList(columns)!.every((c) => present.has(c));
  };
  const pending: PendingGrant[] = [];
  let unchanged = 0;
  let recordedSlots = 0;

  const visit = (entry: SlotSides): void => {
    const { desired, recorded: recordedEntry } = entry;
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
        // A slot's state row lists its columns: after a change, record the columns that stay
        // (StateRowChange contract), not only those that join.
        if ((grant.length > 0 || narrowed.length > 0) && toRecord.length > 0) record("record", toRecord);
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
  let di = 0;
  let ri = 0;
  let hi = 0;
  // Reused for every slot; only the first recordedCount / heldCount entries are this slot's.
  const recordedRows: number[] = [];
  const heldRows: number[] = [];
  const dLength = D.length;
  const rLength = R.length;
  const hLength = H.length;
  while (di < dLength || ri < rLength) {
    // The next slot in plan order among desired and recorded; slots only held (through grants made
    // outside the service) are not the service's business.
    const dKey = di < dLength ? dKeys[di]! : Infinity;
    const rKey = ri < rLength ? rKeys[ri]! : Infinity;
    const key = dKey <= rKey ? dKey : rKey;
    // Desired slots are distinct; if a caller passes one twice, the later one wins.
    let desired = -1;
    while (di < dLength && dKeys[di] === key) desired = dOrder[di++]!;
    let recordedCount = 0;
    while (ri < rLength && rKeys[ri] === key) recordedRows[recordedCount++] = rOrder[ri++]!;
    while (hi < hLength && hKeys[hi]! < key) hi++;
    let heldCount = 0;
    while (hi < hLength && hKeys[hi] === key) heldRows[heldCount++] = hOrder[hi++]!;
    if (recordedCount > 0) recordedSlots++;

    // Fast paths for the two cases that dominate large catalogs (the steady state, and a first
    // grant); they decide exactly what the general logic in visit() would, without objects.
    if (desired >= 0 && recordedCount === 1 && heldCount > 0) {
      const columns = D.columns[desired]!;
      let same = registry.sameColumns(R.columns[recordedRows[0]!]!, columns) && (columns === 0 || heldCount === 1);
      for (let h = 0; same && h < heldCount; h++) same = registry.sameColumns(H.columns[heldRows[h]!]!, columns);
      if (same) {
        unchanged++;
        continue;
      }
    }
    if (desired >= 0 && recordedCount === 0 && heldCount === 0 && existsAt(D.grantee[desired]!, D.object[desired]!) && columnsExist(D.object[desired]!, D.columns[desired]!)) {
      // A first grant: kept as its row, its step is made only when rendered or asked for.
      freshRows.push(desired);
      freshKeys.push(key);
      continue;
    }
    let heldFull = false;
    let heldColumns: string[] | null = null;
    for (const h of heldRows.slice(0, heldCount)) {
      const list = registry.columnList(H.columns[h]!);
      if (list === null) heldFull = true;
      else heldColumns = heldColumns === null ? [...list] : [...new Set([...heldColumns, ...list])];
    }
    const stepCount = steps.length;
    visit({
      desired: desired >= 0 ? D.grantAt(desired, registry) : undefined,
      recorded: recordedCount > 0 ? recordedRows.slice(0, recordedCount).map((i) => R.grantAt(i, registry)) : undefined,
      heldFull,
      heldColumns,
    });
    if (steps.length > stepCount) stepKeys.push(key);
  }

  let grants = freshRows.length;
  let revokes = 0;
  for (const step of steps) {
    for (const c of step.changes) {
      if (c.op === "grant") grants++;
      else revokes++;
    }
  }
  const stateOnly = steps.filter((s) => s.changes.length === 0).length;
  const safety = checkSafety(input, revokes, recordedSlots);
  // Slots are visited in plan order and each yields at most one pending grant: already sorted.
  const pendingSorted = pending;
  const fresh = new FreshGrants(D, registry, Int32Array.from(freshRows));
  let allSteps: PlanStep[] | undefined;
  let allChanges: Change[] | undefined;
  const plan: Plan = {
    // Built on first access only: a first apply of a large catalog renders its batches from the
    // parts (planParts) and never holds a step per grant.
    get steps(): readonly PlanStep[] {
      allSteps ??= mergeByKey(steps, stepKeys, fresh, freshKeys);
      return allSteps;
    },
    // Steps are sorted by slot and each step holds one slot's changes: ordering them by op within the
    // step gives the (schema, table, grantee, privilege, op) order without a global sort.
    get changes(): readonly Change[] {
      allChanges ??= this.steps.flatMap((s) => (s.changes.length > 1 ? [...s.changes].sort((a, b) => compareStrings(a.op, b.op)) : s.changes));
      return allChanges;
    },
    pending: pendingSorted,
    // The planner's own warnings follow the input's order of grants: sorted, so plans compare byte for byte.
    warnings: [...new Set([...input.diagnostics.map(formatDiagnostic), ...diagnostics.slice(input.diagnostics.length).map(formatDiagnostic).sort(compareStrings)])],
    summary: { grants, revokes, pending: pending.length, unchanged, stateOnly },
    safety,
    complete: pendingSorted.length === 0,
    applyable: steps.length + fresh.length > 0 && !safety.refused,
  };
  PARTS.set(plan, { steps, fresh });
  return plan;
}

/**
 * First grants (nothing recorded or held, every column present), in plan order, as rows of the
 * desired columns: on a first apply they are nearly every change.
 */
export class FreshGrants {
  readonly #columns: GrantColumns;
  readonly #registry: GrantRegistry;
  readonly #rows: Int32Array;
  #made: PlanStep[] | undefined;

  constructor(columns: GrantColumns, registry: GrantRegistry, rows: Int32Array) {
    this.#columns = columns;
    this.#registry = registry;
    this.#rows = rows;
  }

  get length(): number {
    return this.#rows.length;
  }

  granteeAt(i: number): Grantee {
    return this.#registry.grantees[this.#columns.grantee[this.#rows[i]!]!]!;
  }

  privilegeAt(i: number): Privilege {
    return PRIVILEGES[this.#columns.privilege[this.#rows[i]!]!]!;
  }

  /** The whole object (its columns are null even for a column grant): see hasColumns. */
  objectAt(i: number): ObjectRef {
    return this.#registry.objects[this.#columns.object[this.#rows[i]!]!]!;
  }

  /** Whether grant i is on a column subset. */
  hasColumns(i: number): boolean {
    return this.#columns.columns[this.#rows[i]!] !== 0;
  }

  /**
   * The step of grant i: the grant and its state row. Made on each call, unless plan.steps was
   * built: then the same objects as there.
   */
  stepAt(i: number): PlanStep {
    return this.#made?.[i] ?? this.#make(i);
  }

  /** Every step, kept: what plan.steps is built from. */
  allSteps(): readonly PlanStep[] {
    this.#made ??= Array.from({ length: this.#rows.length }, (_, i) => this.#make(i));
    return this.#made;
  }

  #make(i: number): PlanStep {
    const grant = this.#columns.grantAt(this.#rows[i]!, this.#registry);
    const change: Change = { op: "grant", grantee: grant.grantee, privilege: grant.privilege, object: grant.object, because: grant.because, reason: "grantBecausePolicy" };
    return { changes: [change], records: [{ op: "record", grant, because: grant.because, fresh: true }] };
  }
}

/** The steps of a plan as the planner keeps them: other steps, and first grants as rows. */
export interface PlanParts {
  readonly steps: readonly PlanStep[];
  readonly fresh: FreshGrants | null;
}

const PARTS = new WeakMap<Plan, PlanParts>();

/** A plan's parts; a plan built elsewhere (tests) is all steps. */
export function planParts(plan: Plan): PlanParts {
  return PARTS.get(plan) ?? { steps: plan.steps, fresh: null };
}

/** The schemas a plan changes anything in, without building its steps. */
export function planSchemas(plan: Plan): string[] {
  const { steps, fresh } = planParts(plan);
  const schemas = new Set<string>();
  for (const step of steps) for (const c of step.changes) schemas.add(c.object.schema);
  for (let i = 0; fresh !== null && i < fresh.length; i++) schemas.add(fresh.objectAt(i).schema);
  return [...schemas];
}

/** Steps and fresh grants merged by their plan keys (both ascending). */
function mergeByKey(steps: readonly PlanStep[], stepKeys: readonly number[], fresh: FreshGrants, freshKeys: readonly number[]): PlanStep[] {
  if (fresh.length === 0) return [...steps];
  const made = fresh.allSteps();
  const merged: PlanStep[] = [];
  let s = 0;
  let f = 0;
  while (s < steps.length || f < fresh.length) {
    if (f >= fresh.length || (s < steps.length && stepKeys[s]! < freshKeys[f]!)) merged.push(steps[s++]!);
    else merged.push(made[f++]!);
  }
  return merged;
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
    return this.granteeExists(grant.grantee) ? this.objectState(grant.object) : "grantee";
  }

  granteeExists(grantee: Grantee): boolean {
    const names = this.#grantees[grantee.kind];
    let found = names.get(grantee.name);
    if (found === undefined) names.set(grantee.name, (found = this.#inventory.grantees.has(granteeKey(grantee))));
    return found;
  }

  objectState(object: ObjectRef): true | "schema" | "table" {
    if (!this.#inventory.schemas.has(object.schema)) return "schema";
    if (object.table !== null && this.columns(object.schema, object.table) === undefined) return "table";
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



export type { Grantee, Privilege };
