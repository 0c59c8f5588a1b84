import { describe, expect, it } from "vitest";
import { isSyncError } from "../../src/errors.js";
import { mapEntitlements, reservedGrantee, type ReservedGrantee } from "../../src/core/map.js";
import { resolvePolicies } from "../../src/core/resolve.js";
import { catalog, database, defaultMapping, policy, role, table } from "../support/catalog-builders.js";

const sales = database("sales", { access: "public" }, [table("orders", {}, ["id", "amount"])]);
const select = (principal: string) => policy(principal, "TABLE", { access: ["public"] }, ["SELECT"]);

function mapped(policies: ReturnType<typeof select>[], mapping: Record<string, unknown> = {}, catalogId?: string) {
  const snapshot = { ...catalog({ databases: [sales], policies }), ...(catalogId === undefined ? {} : { catalogId }) };
  return mapEntitlements(resolvePolicies(snapshot), defaultMapping(mapping), "redshift");
}

describe("reserved grantees: never granted to or revoked from, whatever the mapping says (issue 13 item 14)", () => {
  const rows: { situation: string; name: string; reason: ReservedGrantee }[] = [
    { situation: "PUBLIC", name: "PUBLIC", reason: "public" },
    { situation: "public, lower case", name: "public", reason: "public" },
    { situation: "rdsdb", name: "rdsdb", reason: "rdsdb" },
    { situation: "a name beginning with __", name: "__sys", reason: "system" },
    { situation: "an IAM user Redshift manages (IAM:)", name: "IAM:alice", reason: "managed" },
    { situation: "an IAM role Redshift manages (IAMR:)", name: "IAMR:analyst", reason: "managed" },
    { situation: "a directory identity (ds:)", name: "ds:bob", reason: "managed" },
    { situation: "a system-defined role (sys:)", name: "sys:superuser", reason: "systemRole" },
  ];
  it.each(rows)("an explicit mapping to $situation is an error; nothing is granted", ({ name, reason }) => {
    expect(reservedGrantee(name)).toBe(reason);
    for (const kind of ["group", "role"]) {
      const state = mapped([select(role("analyst"))], { principals: { [role("analyst")]: { name, kind } } });
      expect(state.grants).toEqual([]);
      expect(state.grantees).toEqual([]);
      const errors = state.diagnostics.filter((d) => d.severity === "error").map((d) => d.summary);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/maps to .* which is reserved \(.+\): the service never grants to or revokes from it/);
    }
  });

  it("a rule that makes a reserved name is an error too (role rdsdb -> group rdsdb)", () => {
    const state = mapped([select(role("rdsdb")), select(role("analyst"))]);
    expect(state.grantees).toEqual([{ kind: "group", name: "analyst" }]);
    expect(state.diagnostics.map((d) => `${d.severity}: ${d.summary}`)).toEqual([
      expect.stringMatching(/^error: principal .*role\/rdsdb maps to group "rdsdb", which is reserved \(rdsdb/),
    ]);
  });

  it("a superuser named by the inventory is reserved; an ordinary name is not", () => {
    expect(reservedGrantee("admin", new Set(["admin"]))).toBe("superuser");
    expect(reservedGrantee("analyst", new Set(["admin"]))).toBeNull();
    expect(reservedGrantee("publications")).toBeNull();
    expect(reservedGrantee("my__name")).toBeNull();
  });
});

describe("principals sharing one grantee (issue 13 item 2)", () => {
  it("refuses two principals that rules map to one grantee, naming both", () => {
    const run = () => mapped([select(role("Analyst")), select(role("analyst"))]);
    expect(run).toThrow(/mapping refused: principals .*role\/Analyst, .*role\/analyst all map to group "analyst".*mapping\.sharedGrantees/);
    try {
      run();
    } catch (e) {
      expect(isSyncError(e) && e.code).toBe("CONFIG_INVALID");
    }
  });

  it("allows it when the grantee is listed in mapping.sharedGrantees (folded), with a warning", () => {
    const state = mapped([select(role("Analyst")), select(role("analyst"))], { sharedGrantees: ["ANALYST"] });
    expect(state.grantees).toEqual([{ kind: "group", name: "analyst" }]);
    expect(state.diagnostics.map((d) => d.summary)).toEqual([expect.stringMatching(/all map to group "analyst", which holds the union .* \(configured\)/)]);
  });

  it("refuses a rule and an explicit mapping that meet on one grantee", () => {
    expect(() => mapped([select(role("analyst")), select(role("bi"))], { principals: { [role("bi")]: "analyst" } })).toThrow(/mapping refused/);
  });

  it("one principal in several policies is not sharing", () => {
    const state = mapped([select(role("analyst")), policy(role("analyst"), "TABLE", { access: ["public"] }, ["INSERT"])]);
    expect(state.diagnostics).toEqual([]);
  });
});

describe("the catalog's own account", () => {
  it("is the snapshot's catalogId: another account's role is reported, not mapped", () => {
    const state = mapped([select("arn:aws:iam::111111111111:role/analyst")], {}, "222222222222");
    expect(state.grants).toEqual([]);
    expect(state.diagnostics.map((d) => d.summary)).toEqual([expect.stringMatching(/belongs to account 111111111111, not to 222222222222/)]);
  });

  it("unknown (no catalogId, no mapping.accounts): rules map no IAM principal, and that is an error", () => {
    const snapshot = { ...catalog({ databases: [sales], policies: [select(role("analyst"))] }), catalogId: undefined };
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping(), "redshift");
    expect(state.grants).toEqual([]);
    expect(state.diagnostics.map((d) => `${d.severity}: ${d.summary}`)).toEqual([expect.stringMatching(/^error: the catalog's own account is unknown .*source\.catalogId or mapping\.accounts/)]);
  });

  it("unknown, but mapping.accounts lists it: mapped", () => {
    const snapshot = { ...catalog({ databases: [sales], policies: [select(role("analyst"))] }), catalogId: undefined };
    const state = mapEntitlements(resolvePolicies(snapshot), defaultMapping({ accounts: ["123456789012"] }), "redshift");
    expect(state.grantees).toEqual([{ kind: "group", name: "analyst" }]);
  });
});

describe("because names the principal: each grant's policy ids lead to PolicyRefs naming it", () => {
  it("every because id of every grant is a listed policy of a principal mapped to that grantee", () => {
    const state = mapped([select(role("analyst")), select(role("bi")), policy(role("bi"), "DATABASE", { access: ["public"] }, ["DESCRIBE"])]);
    const byId = new Map(state.policies.map((p) => [p.id, p]));
    for (const grant of state.grants) {
      expect(grant.because.length).toBeGreaterThan(0);
      for (const id of grant.because) expect(byId.get(id)?.principal).toBe(role(grant.grantee.name));
    }
  });
});
