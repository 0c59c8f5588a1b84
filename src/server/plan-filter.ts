import type { Grant } from "../core/grants.js";
import type { Plan } from "../core/plan.js";

export interface PlanFilter {
  /** Grantee name, exact. */
  readonly grantee?: string | undefined;
  /** Schema name, exact. */
  readonly schema?: string | undefined;
}

export function isFiltered(filter: PlanFilter): boolean {
  return filter.grantee !== undefined || filter.schema !== undefined;
}

/**
 * The part of a plan about one grantee and/or schema, for reading (`GET /plan?grantee=`), never for
 * applying. Grant, revoke and pending counts describe what is kept; `unchanged` and `stateOnly`
 * stay those of the whole plan, which does not break them down. Warnings are kept: they are text.
 */
export function filterPlan(plan: Plan, filter: PlanFilter): Plan {
  if (!isFiltered(filter)) return plan;
  const keep = (g: Grant): boolean =>
    (filter.grantee === undefined || g.grantee.name === filter.grantee) && (filter.schema === undefined || g.object.schema === filter.schema);
  const changes = plan.changes.filter(keep);
  const pending = plan.pending.filter(keep);
  const steps = plan.steps
    .map((s) => ({ changes: s.changes.filter(keep), records: s.records.filter((r) => keep(r.grant)) }))
    .filter((s) => s.changes.length > 0 || s.records.length > 0);
  // A filtered plan names only the policies its changes and pending grants refer to.
  const referred = new Set([...changes, ...pending].flatMap((g) => g.because));
  return {
    ...plan,
    changes,
    steps,
    pending,
    policies: plan.policies.filter((p) => referred.has(p.id)),
    unmanaged: plan.unmanaged.filter(keep),
    ownership: plan.ownership.filter((o) => filter.grantee === undefined || o.grantee.name === filter.grantee),
    summary: {
      ...plan.summary,
      grants: changes.filter((c) => c.op === "grant").length,
      revokes: changes.filter((c) => c.op === "revoke").length,
      pending: pending.length,
      unmanaged: plan.unmanaged.filter(keep).length,
      adopted: steps.reduce((n, s) => n + (s.records.some((r) => r.adopt === true) ? 1 : 0), 0),
    },
  };
}
