/** The planner lives in src/core/plan/; this module keeps its imports stable. */
export { planChanges } from "./plan/plan-changes.js";
export { decideSlot, type SlotDecision, type SlotInput } from "./plan/slot.js";
export { FreshGrants, iterateChanges, type PlanParts, planParts, planSchemas } from "./plan/steps.js";
export type {
  Change,
  ChangeOp,
  ChangeReason,
  GranteeOwnership,
  PendingGrant,
  PendingReason,
  Plan,
  PlanInput,
  PlanStep,
  PlanSummary,
  RecordChange,
  SafetyVerdict,
  UnmanagedGrant,
} from "./plan/types.js";
export type { Grantee, Privilege } from "./grants.js";
