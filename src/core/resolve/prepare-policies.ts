import type { CatalogSnapshot, Expression } from "../../catalog/model.js";
import { type Diagnostic, warning } from "../diagnostics.js";
import { LF_DATABASE_PERMISSIONS, LF_TABLE_PERMISSIONS, type LfDatabasePermission, type LfTablePermission } from "./entitlements.js";
import { canonicalExpressionKey, policyExpression } from "./policy-refs.js";

export interface PreparedExpression {
  /** Equal for equal expressions, whatever their key and value order. */
  readonly key: string;
  readonly expression: Expression;
}

export interface PreparedPolicy {
  /** Position in the catalog's policy list. */
  readonly index: number;
  readonly principal: string;
  readonly resourceType: "DATABASE" | "TABLE";
  readonly expression: PreparedExpression;
  /** Table permissions in LF_TABLE_PERMISSIONS order (ALL expanded). */
  readonly tablePermissions: readonly LfTablePermission[];
  readonly databasePermissions: readonly LfDatabasePermission[];
}

/** Resolves named expressions, expands ALL, drops what cannot be translated (with a warning). */
export function preparePolicies(snapshot: CatalogSnapshot, diagnostics: Diagnostic[]): PreparedPolicy[] {
  const prepared: PreparedPolicy[] = [];
  snapshot.policies.forEach((policy, index) => {
    const where = `policy#${index} (${policy.principal})`;
    if (policy.condition !== undefined && policy.condition.trim() !== "") {
      // A Cedar condition narrows the grant by principal attributes; Redshift cannot express it, and
      // granting without it would grant more than Lake Formation allows.
      diagnostics.push(warning(`${where} has a condition, which Redshift cannot express: policy skipped`));
      return;
    }
    if ((policy.permissionsWithGrantOption ?? []).length > 0) {
      diagnostics.push(warning(`${where} has grant options, which Redshift groups and roles cannot hold: granted without them`));
    }
    const expression = usableExpression(policyExpression(policy, snapshot.expressions), policy.expressionName, where, diagnostics);
    if (expression === undefined) return;
    const ordered = expandPermissions(policy.permissions, policy.resourceType, where, diagnostics);
    if (ordered.length === 0) return;
    prepared.push({
      index,
      principal: policy.principal,
      resourceType: policy.resourceType,
      expression: { key: canonicalExpressionKey(expression), expression },
      tablePermissions: policy.resourceType === "TABLE" ? (ordered as LfTablePermission[]) : [],
      databasePermissions: policy.resourceType === "DATABASE" ? (ordered as LfDatabasePermission[]) : [],
    });
  });
  return prepared;
}

function usableExpression(expression: Expression | undefined, name: string | undefined, where: string, diagnostics: Diagnostic[]): Expression | undefined {
  if (expression === undefined) {
    diagnostics.push(warning(`${where} names expression ${JSON.stringify(name)}, which does not exist: policy skipped`));
    return undefined;
  }
  if (Object.keys(expression).length === 0) {
    diagnostics.push(warning(`${where} has an empty expression, which Lake Formation does not treat as "everything": policy skipped`));
    return undefined;
  }
  for (const [key, values] of Object.entries(expression)) {
    if (values.includes("*")) {
      diagnostics.push(warning(`${where} uses the value * for tag ${key}; its meaning in a policy is undocumented, so it matches nothing`));
    }
  }
  return expression;
}

/** The permissions a policy of this resource type can grant, ALL expanded, in the canonical order. */
function expandPermissions(listed: readonly string[], resourceType: "DATABASE" | "TABLE", where: string, diagnostics: Diagnostic[]): readonly string[] {
  const permissions = new Set(listed.map((p) => p.toUpperCase()));
  const valid: readonly string[] = resourceType === "TABLE" ? LF_TABLE_PERMISSIONS : LF_DATABASE_PERMISSIONS;
  const ignored = [...permissions].filter((p) => p !== "ALL" && !valid.includes(p));
  if (ignored.length > 0) {
    diagnostics.push(warning(`${where}: ${ignored.join(", ")} cannot be granted by a ${resourceType} tag policy: ignored`));
  }
  return permissions.has("ALL") ? valid : valid.filter((p) => permissions.has(p));
}
