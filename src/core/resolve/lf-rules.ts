import type { LfTablePermission } from "./entitlements.js";

/** How a policy's expression matches the tables of one signature group (their columns' effective tags). */
export type GroupMatch = "none" | "some" | "all";

/** What one TABLE policy gives its principal on every table of one signature group. */
export interface PolicyGroupAccess {
  /** Permissions held on the whole table. */
  readonly tableLevel: readonly LfTablePermission[];
  /** Whether SELECT is held on the matching columns only (never together with a table-level SELECT). */
  readonly columnSelect: boolean;
}

const NOTHING: PolicyGroupAccess = { tableLevel: [], columnSelect: false };

/**
 * The Lake Formation rule for one policy x one signature group (DESIGN §2, aws-facts §1.5):
 * - no column matches: nothing;
 * - every column matches: the permissions as granted, at table level;
 * - some columns match: SELECT on exactly those columns (when the policy grants SELECT) plus
 *   DESCRIBE; INSERT, DELETE, ALTER and DROP need every column and are not granted (trap 8).
 */
export function policyOnGroup(match: GroupMatch, permissions: readonly LfTablePermission[]): PolicyGroupAccess {
  if (match === "none") return NOTHING;
  if (match === "all") return { tableLevel: permissions, columnSelect: false };
  return { tableLevel: ["DESCRIBE"], columnSelect: permissions.includes("SELECT") };
}
