import type { SafetyConfig } from "../../config/schema.js";
import type { Diagnostic } from "../diagnostics.js";
import type { GrantColumns, GrantRegistry } from "../grant-columns.js";
import type { DesiredGrant, Dialect, Grant, Grantee, RecordedGrant } from "../grants.js";
import type { InventoryLike } from "../inventory-view.js";
import type { OwnershipMode } from "../ownership.js";
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
  | "revokeBecauseFormChanged"
  /** `authoritative` ownership: held on a managed schema, and Lake Formation does not allow it. */
  | "revokeBecauseUnmanaged";

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
  /** No row was recorded for this slot when planning: the state store need not cut it out of any row before its INSERT. */
  readonly fresh?: boolean;
  /** `~ adopt`: the target already holds exactly this grant; the service records it as its own, with no SQL. */
  readonly adopt?: boolean;
  /** PostgreSQL: a recorded grant moving between the group and role kinds of one role (one privilege): state only, no SQL. */
  readonly rekind?: boolean;
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

/**
 * A held grant on a managed schema that no policy explains (noPolicy), or that is wider than what
 * Lake Formation allows (widerThanAllowed: a table-level grant where LF allows some columns).
 */
export interface UnmanagedGrant extends Grant {
  readonly why: "noPolicy" | "widerThanAllowed";
  /** What the grantee's ownership mode does about it. */
  readonly mode: OwnershipMode;
}

export interface GranteeOwnership {
  readonly grantee: Grantee;
  readonly mode: OwnershipMode;
}

export interface PlanSummary {
  readonly grants: number;
  readonly revokes: number;
  readonly pending: number;
  readonly unchanged: number;
  readonly stateOnly: number;
  /** Held grants recorded as owned (`~ adopt`). */
  readonly adopted: number;
  /** Held grants on managed schemas that no policy explains (see Plan.unmanaged). */
  readonly unmanaged: number;
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
  /** Held grants on managed schemas no policy explains, in every ownership mode, in plan order. */
  readonly unmanaged: readonly UnmanagedGrant[];
  /** The ownership mode of each grantee the plan is about, by grantee. */
  readonly ownership: readonly GranteeOwnership[];
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
  /** Ownership mode per grantee (default: `recorded` for all). */
  readonly ownership?: (grantee: Grantee) => OwnershipMode;
  /**
   * Schemas the mapping manages: held grants elsewhere are never reported or revoked as unmanaged.
   * Default: the schemas of the desired and recorded grants.
   */
  readonly managedSchemas?: ReadonlySet<string>;
}
