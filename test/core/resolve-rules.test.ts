import { describe, expect, it } from "vitest";
import { type GroupMatch, type LfTablePermission, policyOnGroup } from "../../src/core/resolve.js";

/**
 * The Lake Formation rule for one TABLE policy on one signature group (DESIGN §2, aws-facts §1.5),
 * one row per situation: how the expression matches the columns, what the policy grants, what the
 * principal then holds at table level and whether it holds SELECT on the matching columns only.
 */
const rows: { situation: string; match: GroupMatch; grants: LfTablePermission[]; tableLevel: LfTablePermission[]; columnSelect: boolean }[] = [
  { situation: "no column matches: nothing", match: "none", grants: ["SELECT", "INSERT"], tableLevel: [], columnSelect: false },
  { situation: "no column matches, ALL: nothing", match: "none", grants: ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"], tableLevel: [], columnSelect: false },
  { situation: "every column matches: SELECT at table level", match: "all", grants: ["SELECT"], tableLevel: ["SELECT"], columnSelect: false },
  { situation: "every column matches: every permission as granted", match: "all", grants: ["SELECT", "INSERT", "DELETE", "DROP"], tableLevel: ["SELECT", "INSERT", "DELETE", "DROP"], columnSelect: false },
  { situation: "some columns match: SELECT on those columns, plus DESCRIBE", match: "some", grants: ["SELECT"], tableLevel: ["DESCRIBE"], columnSelect: true },
  { situation: "some columns match: INSERT and DELETE need every column", match: "some", grants: ["SELECT", "INSERT", "DELETE"], tableLevel: ["DESCRIBE"], columnSelect: true },
  { situation: "some columns match, ALL: SELECT on those columns + DESCRIBE", match: "some", grants: ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"], tableLevel: ["DESCRIBE"], columnSelect: true },
  { situation: "some columns match, no SELECT: DESCRIBE only", match: "some", grants: ["INSERT", "DROP"], tableLevel: ["DESCRIBE"], columnSelect: false },
];

describe("policyOnGroup: one policy x one signature group -> access", () => {
  it.each(rows)("$situation", ({ match, grants, tableLevel, columnSelect }) => {
    expect(policyOnGroup(match, grants)).toEqual({ tableLevel, columnSelect });
  });
});
