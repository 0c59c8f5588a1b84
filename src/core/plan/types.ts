import type { SafetyConfig } from "../../config/schema.js";
import type { Diagnostic } from "../diagnostics.js";
import type { GrantColumns, GrantRegistry } from "../grant-columns.js";
import type { DesiredGrant, Dialect, Grant, RecordedGrant } from "../grants.js";
import type { InventoryLike } from "../inventory-view.js";
import type { PolicyRef } from "../policy-ref.js";

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
  /** Ids of the policies behind it (Plan.policies); a grant recorded before policy ids may carry their labels. */
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

export interface PlanSummary {
  readonly grants: number;
  readonly revokes: number;
  readonly pending: number;
  readonly unchanged: number;
  readonly stateOnly: number;
}

export interface SafetyVerdict {
  readonly refused: boolean;
  readonly forced: boolean;
  readonly reasons: readonly string[];
}

export interface Plan {
  /** Every policy of the catalog, once, sorted by id: changes and pending grants refer to them by id. */
  readonly policies: readonly PolicyRef[];
  /** Sorted (schema, table, grantee, privilege, op): two plans of one state are byte-identical. */
  readonly changes: readonly Change[];
  /** The same changes in execution units, plus state-only corrections (forgetting grants whose object is gone). */
  readonly steps: readonly PlanStep[];
  readonly pending: readonly PendingGrant[];
  readonly warnings: readonly string[];
  readonly summary: PlanSummary;
  readonly safety: SafetyVerdict;
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
  /** The policies the desired grants' `because` ids refer to (the mapper's `policies`). */
  readonly policies?: readonly PolicyRef[];
  readonly policyCount: number;
  readonly safety: SafetyConfig;
  readonly force: boolean;
  readonly diagnostics: readonly Diagnostic[];
}
