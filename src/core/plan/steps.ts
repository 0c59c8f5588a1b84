import type { GrantColumns, GrantRegistry } from "../grant-columns.js";
import { compareStrings, type Grantee, type ObjectRef, type Privilege, PRIVILEGES } from "../grants.js";
import type { Change, Plan, PlanStep } from "./types.js";

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

  /** The policy ids behind grant i. */
  becauseAt(i: number): readonly string[] {
    const because = this.#columns.because[this.#rows[i]!]!;
    return because < 0 ? [] : this.#registry.becauseLists[because]!;
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
  /** Plan keys of steps and fresh grants (ascending): merged, they give plan order. */
  readonly stepKeys?: readonly number[];
  readonly freshKeys?: readonly number[];
}

const PARTS = new WeakMap<Plan, PlanParts>();

export function rememberParts(plan: Plan, parts: PlanParts): void {
  PARTS.set(plan, parts);
}

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

/**
 * A plan's changes in plan order (schema, table, grantee, privilege, op), one at a time: a large
 * first apply is never held as one array of changes (plan.changes) to be printed.
 */
export function* iterateChanges(plan: Plan): Generator<Change> {
  const { steps, fresh, stepKeys, freshKeys } = planParts(plan);
  if (fresh === null || stepKeys === undefined || freshKeys === undefined) {
    yield* plan.changes;
    return;
  }
  let s = 0;
  let f = 0;
  while (s < steps.length || f < fresh.length) {
    if (f >= fresh.length || (s < steps.length && stepKeys[s]! < freshKeys[f]!)) {
      const changes = steps[s++]!.changes;
      // Steps are sorted by slot: ordering by op within a step gives the plan order.
      yield* changes.length > 1 ? [...changes].sort((a, b) => compareStrings(a.op, b.op)) : changes;
    } else yield* fresh.stepAt(f++).changes;
  }
}

/** Steps and fresh grants merged by their plan keys (both ascending). */
export function mergeByKey(steps: readonly PlanStep[], stepKeys: readonly number[], fresh: FreshGrants, freshKeys: readonly number[]): PlanStep[] {
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
