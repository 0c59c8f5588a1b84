import { type Diagnostic, formatDiagnostic, warning } from "../diagnostics.js";
import { GrantColumns, GrantRegistry } from "../grant-columns.js";
import { compareStrings, type Grant, PRIVILEGES } from "../grants.js";
import { ExistenceIndex } from "./existence.js";
import { type AlignedKinds, alignKinds } from "./kinds.js";
import { SortedSides } from "./merge.js";
import { checkSafety } from "./safety.js";
import { decideSlot, type SlotDecision, type SlotInput } from "./slot.js";
import { FreshGrants, mergeByKey, rememberParts } from "./steps.js";
import type { OwnershipMode } from "../ownership.js";
import type { Change, GranteeOwnership, PendingGrant, Plan, PlanInput, PlanStep, UnmanagedGrant } from "./types.js";

const NO_COLUMNS: ReadonlySet<string> = new Set();
const NOT_HELD: SlotInput["held"] = { full: false, columns: NO_COLUMNS };
const NO_GRANTS: SlotInput["recorded"] = [];

/**
 * Desired vs recorded vs actual -> Plan (DESIGN §3, §4.2). All three sides become integer columns
 * over one registry, sorted in plan order and merged (SortedSides); slots where all three sides
 * agree are counted as unchanged, every other slot is decided by decideSlot.
 */
export function planChanges(input: PlanInput): Plan {
  const registry = input.registry ?? new GrantRegistry();
  const columnsOf = (grants: readonly (Grant & { readonly because?: readonly string[] })[] | GrantColumns): GrantColumns =>
    grants instanceof GrantColumns ? grants : GrantColumns.from(grants, registry);
  const sides = { desired: columnsOf(input.desired), recorded: columnsOf(input.recorded), held: columnsOf(input.inventory.held) };
  const kinds = alignKinds(input.dialect, registry, sides.desired, sides.recorded);
  const walk = new SlotWalk(input, registry, sides.desired, kinds, sides.held);
  walk.run();
  return assemble(input, registry, sides.desired, walk);
}

/** The merge loop's state: the steps, first grants, pending grants and counts it collects. */
class SlotWalk {
  readonly steps: PlanStep[] = [];
  /** Each step's plan key. */
  readonly stepKeys: number[] = [];
  /** First grants, kept as desired rows, with their plan keys. */
  readonly freshRows: number[] = [];
  readonly freshKeys: number[] = [];
  readonly pending: PendingGrant[] = [];
  readonly unmanaged: UnmanagedGrant[] = [];
  readonly diagnostics: Diagnostic[] = [];
  unchanged = 0;
  recordedSlots = 0;
  adopted = 0;
  readonly #exists: ExistenceIndex;
  readonly #managed: ReadonlySet<string>;
  readonly #modes: (OwnershipMode | undefined)[] = [];
  readonly #granteeState: (boolean | undefined)[] = [];
  readonly #objectState: (SlotInput["exists"] | undefined)[] = [];
  readonly R: GrantColumns;
  readonly #kinds: AlignedKinds;

  constructor(
    readonly input: PlanInput,
    readonly registry: GrantRegistry,
    readonly D: GrantColumns,
    kinds: AlignedKinds,
    readonly H: GrantColumns,
  ) {
    this.R = kinds.recorded;
    this.#kinds = kinds;
    this.#exists = new ExistenceIndex(input.inventory);
    this.#managed = input.managedSchemas ?? schemasOf(registry, D, kinds.recorded);
  }

  /** The grantee's ownership mode; superusers and identities Redshift manages are never owned. */
  modeOf(grantee: number): OwnershipMode {
    let mode = this.#modes[grantee];
    if (mode === undefined) {
      const g = this.registry.grantees[grantee]!;
      mode = this.input.inventory.superusers?.has(g.name) === true ? "recorded" : (this.input.ownership?.(g) ?? "recorded");
      this.#modes[grantee] = mode;
    }
    return mode;
  }

  /** Every grantee the plan is about, with its mode. */
  ownership(): GranteeOwnership[] {
    return this.registry.grantees.map((grantee, id) => ({ grantee, mode: this.modeOf(id) }));
  }

  run(): void {
    const { registry, D, R, H } = this;
    const sides = new SortedSides(D, R, H, registry.objectRanks(), registry.granteeRanks());
    const stateGrantee = this.#kinds.stateGrantee;
    let recordedSlots = 0;
    let unchanged = 0;
    while (sides.next()) {
      const desired = sides.desired;
      const recordedCount = sides.recordedCount;
      if (recordedCount > 0) recordedSlots++;
      if (desired >= 0) {
        if (recordedCount === 1 && sides.heldCount > 0 && (stateGrantee === null || stateGrantee[sides.recordedRows[0]!]! < 0) && triviallyEqual(registry, sides, D.columns[desired]!, R.columns, H.columns)) {
          unchanged++;
          continue;
        }
      } else if (recordedCount === 0) {
        if (!this.#managed.has(registry.objects[H.object[sides.heldRows[0]!]!]!.schema)) continue; // held only, outside the schemas the mapping manages: not the service's business
        if (this.#isShadow(sides.heldRows[0]!)) continue; // PostgreSQL: the same role's privilege, decided in its slot under the other kind
      }
      this.#decide(sides);
    }
    this.recordedSlots += recordedSlots;
    this.unchanged += unchanged;
  }

  #decide(sides: SortedSides): void {
    const input = this.#slotInput(sides);
    const decision = decideSlot(input);
    if (decision.unmanaged !== undefined) this.#unmanaged(input, decision.unmanaged);
    if (sides.recordedCount === 0 && sides.heldCount === 0 && decision.pending === undefined && decision.warning === undefined && decision.changes.length === 1) {
      // A first grant: exactly the desired row. Kept as the row; its step is made only when rendered or asked for.
      this.freshRows.push(sides.desired);
      this.freshKeys.push(sides.key);
      return;
    }
    this.#collect(decision, sides.key);
  }

  #slotInput(sides: SortedSides): SlotInput {
    const { registry, D, R, H } = this;
    const row = sides.desired >= 0 ? sides.desired : sides.recordedCount > 0 ? sides.recordedRows[0]! : sides.heldRows[0]!;
    const side = sides.desired >= 0 ? D : sides.recordedCount > 0 ? R : H;
    const object = registry.objects[side.object[row]!]!;
    const desired = sides.desired >= 0 ? D.grantAt(sides.desired, registry) : undefined;
    // A whole-table desired grant is its own slot (its columns are null).
    const slot: Grant = desired?.object === object ? desired : { grantee: registry.grantees[side.grantee[row]!]!, privilege: PRIVILEGES[side.privilege[row]!]!, object };
    let full = false;
    let columns: Set<string> | null = null;
    for (let h = 0; h < sides.heldCount; h++) {
      const list = registry.columnList(H.columns[sides.heldRows[h]!]!);
      if (list === null) full = true;
      else for (const c of list) (columns ??= new Set()).add(c);
    }
    return {
      slot,
      desired,
      recorded: sides.recordedCount === 0 ? NO_GRANTS : sides.recordedRows.slice(0, sides.recordedCount).map((i) => this.#recordedAt(i)),
      held: full || columns !== null ? { full, columns: columns ?? NO_COLUMNS } : NOT_HELD,
      exists: this.#existsAt(side.grantee[row]!, side.object[row]!),
      tableColumns: object.table === null ? undefined : this.#exists.columns(object.schema, object.table),
      dialect: this.input.dialect,
      ownership: this.modeOf(side.grantee[row]!),
    };
  }

  #isShadow(heldRow: number): boolean {
    const { H } = this;
    return this.#kinds.isShadow(H.grantee[heldRow]!, H.object[heldRow]!, H.privilege[heldRow]!);
  }

  /** A recorded row, with the grantee the state holds it under when that is the other kind (kinds.ts). */
  #recordedAt(i: number): SlotInput["recorded"][number] {
    const grant = this.R.grantAt(i, this.registry);
    const stateGrantee = this.#kinds.stateGrantee?.[i] ?? -1;
    return stateGrantee < 0 ? grant : { ...grant, stateGrantee: this.registry.grantees[stateGrantee]! };
  }

  /** Held access no policy explains, as the held grants themselves. */
  #unmanaged(input: SlotInput, why: UnmanagedGrant["why"]): void {
    const { slot, held } = input;
    const mode = input.ownership ?? "recorded";
    const at = (columns: readonly string[] | null) =>
      this.unmanaged.push({ grantee: slot.grantee, privilege: slot.privilege, object: { schema: slot.object.schema, table: slot.object.table, columns }, why, mode });
    if (held.full) at(null);
    else if (held.columns.size > 0) at([...held.columns].sort(compareStrings));
  }

  /** exists.of on integers: each grantee and object is looked up once. */
  #existsAt(grantee: number, object: number): SlotInput["exists"] {
    const { registry } = this;
    const g = (this.#granteeState[grantee] ??= this.#exists.granteeExists(registry.grantees[grantee]!));
    if (!g) return "grantee";
    return (this.#objectState[object] ??= this.#exists.objectState(registry.objects[object]!));
  }

  #collect(decision: SlotDecision, key: number): void {
    if (decision.pending !== undefined) this.pending.push(decision.pending);
    if (decision.warning !== undefined) this.diagnostics.push(warning(decision.warning));
    if (decision.unchanged) this.unchanged++;
    if (decision.records.some((r) => r.adopt === true)) this.adopted++;
    if (decision.changes.length > 0 || decision.records.length > 0) {
      this.steps.push({ changes: decision.changes, records: decision.records });
      this.stepKeys.push(key);
    }
  }
}

function assemble(input: PlanInput, registry: GrantRegistry, D: GrantColumns, walk: SlotWalk): Plan {
  const { steps, stepKeys, freshKeys, pending } = walk;
  let grants = walk.freshRows.length;
  let revokes = 0;
  for (const step of steps) {
    for (const c of step.changes) {
      if (c.op === "grant") grants++;
      else revokes++;
    }
  }
  const stateOnly = steps.filter((s) => s.changes.length === 0).length - walk.adopted;
  const safety = checkSafety(input, revokes, walk.recordedSlots);
  const fresh = new FreshGrants(D, registry, Int32Array.from(walk.freshRows));
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
    policies: [...(input.policies ?? [])].sort((a, b) => compareStrings(a.id, b.id)),
    // Slots are visited in plan order and each yields at most one pending grant: already sorted.
    pending,
    unmanaged: walk.unmanaged,
    ownership: walk.ownership(),
    // The planner's own warnings follow the input's order of grants: sorted, so plans compare byte for byte.
    warnings: [...new Set([...input.diagnostics.map(formatDiagnostic), ...walk.diagnostics.map(formatDiagnostic).sort(compareStrings)])],
    summary: { grants, revokes, pending: pending.length, unchanged: walk.unchanged, stateOnly, adopted: walk.adopted, unmanaged: walk.unmanaged.length },
    safety,
    complete: pending.length === 0,
    applyable: steps.length + fresh.length > 0 && !safety.refused,
  };
  rememberParts(plan, { steps, fresh, stepKeys, freshKeys });
  return plan;
}

/**
 * Desired, recorded and held are one and the same grant (same columns, and the state holds it under
 * this grantee): the steady state of large catalogs, decided on integers.
 */
function triviallyEqual(registry: GrantRegistry, sides: SortedSides, columns: number, recorded: Int32Array, held: Int32Array): boolean {
  if (!registry.sameColumns(recorded[sides.recordedRows[0]!]!, columns) || (columns !== 0 && sides.heldCount !== 1)) return false;
  for (let h = 0; h < sides.heldCount; h++) if (!registry.sameColumns(held[sides.heldRows[h]!]!, columns)) return false;
  return true;
}

/** Default managed schemas: those of the desired and recorded grants. */
function schemasOf(registry: GrantRegistry, ...sides: readonly GrantColumns[]): Set<string> {
  const schemas = new Set<string>();
  // Millions of rows share a few hundred thousand objects: each object's schema is looked up once.
  const seen = new Uint8Array(registry.objects.length);
  for (const side of sides) {
    for (let i = 0; i < side.length; i++) {
      const object = side.object[i]!;
      if (seen[object] === 1) continue;
      seen[object] = 1;
      schemas.add(registry.objects[object]!.schema);
    }
  }
  return schemas;
}
