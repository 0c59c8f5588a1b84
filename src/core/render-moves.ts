import { type Grantee, granteeKey, type ObjectRef, type Privilege, tableKey } from "./grants.js";
import type { FreshGrants, PlanStep } from "./plan.js";

/** Grant and revoke steps that move a principal between grantees: each pair is one unit, grant first. */
export interface Moves {
  /** (grant step, revoke step) of one object and privilege: the new grantee is granted before the old one is revoked. */
  readonly pairs: readonly (readonly [PlanStep, PlanStep])[];
  readonly steps: ReadonlySet<PlanStep>;
  readonly fresh: ReadonlySet<number>;
}

const NO_MOVES: Moves = { pairs: [], steps: new Set(), fresh: new Set() };

/**
 * A principal whose grantee changes (the usual Redshift migration moves it from a group to a role
 * of the same name; a mapping change can also rename it): the new grantee's grant and the old one's
 * revoke of one object and privilege, at table level or on columns, become one unit, grant first,
 * so they share a transaction and the principal never loses access. A pair is the same name under
 * the other kind (Redshift keeps groups and roles apart; on PostgreSQL the planner re-records those
 * without SQL, plan/kinds.ts), or another grantee granted because of a policy the revoked grant was
 * recorded for.
 */
export function pairMoves(steps: readonly PlanStep[], fresh: FreshGrants | null): Moves {
  const revokes = new Map<string, PlanStep[]>();
  const schemas = new Set<string>();
  for (const step of steps) {
    const c = step.changes.length === 1 ? step.changes[0]! : null;
    if (c === null || c.op !== "revoke" || c.reason !== "revokeBecauseNoPolicy") continue;
    const key = objectKey(c.object);
    const list = revokes.get(key);
    if (list === undefined) revokes.set(key, [step]);
    else list.push(step);
    schemas.add(c.object.schema);
  }
  if (revokes.size === 0) return NO_MOVES;
  const pairs: [PlanStep, PlanStep][] = [];
  const paired = new Set<PlanStep>();
  const take = (grantee: Grantee, privilege: Privilege, object: ObjectRef, because: () => readonly string[], grant: () => PlanStep): boolean => {
    // Most grants are on schemas nothing is revoked on: no key is built for them.
    if (!schemas.has(object.schema)) return false;
    const revoke = moveFrom(revokes.get(objectKey(object)), paired, grantee, privilege, because);
    if (revoke === undefined) return false;
    const step = grant();
    pairs.push([step, revoke]);
    paired.add(revoke).add(step);
    return true;
  };
  for (const step of steps) {
    const c = step.changes.length === 1 ? step.changes[0]! : null;
    if (c !== null && c.op === "grant") take(c.grantee, c.privilege, c.object, () => c.because, () => step);
  }
  const pairedFresh = new Set<number>();
  for (let i = 0; fresh !== null && i < fresh.length; i++) {
    if (take(fresh.granteeAt(i), fresh.privilegeAt(i), fresh.objectAt(i), () => fresh.becauseAt(i), () => fresh.stepAt(i))) pairedFresh.add(i);
  }
  return { pairs, steps: paired, fresh: pairedFresh };
}

/** The revoke a grant to `grantee` takes over: same name first, else one recorded for a policy the grant is made for. */
function moveFrom(
  revokes: readonly PlanStep[] | undefined,
  paired: ReadonlySet<PlanStep>,
  grantee: Grantee,
  privilege: Privilege,
  because: () => readonly string[],
): PlanStep | undefined {
  const candidates = revokes?.filter((s) => !paired.has(s) && s.changes[0]!.privilege === privilege && granteeKey(s.changes[0]!.grantee) !== granteeKey(grantee));
  if (candidates === undefined || candidates.length === 0) return undefined;
  const sameName = candidates.find((s) => s.changes[0]!.grantee.name === grantee.name);
  if (sameName !== undefined) return sameName;
  const ids = new Set(because());
  return candidates.find((s) => s.changes[0]!.because.some((id) => ids.has(id)));
}

function objectKey(object: ObjectRef): string {
  return object.table === null ? object.schema : tableKey(object.schema, object.table);
}
