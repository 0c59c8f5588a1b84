import { createHash } from "node:crypto";
import type { Expression, PolicyEntry } from "../../catalog/model.js";
import type { PolicyRef } from "../policy-ref.js";
import { describeExpression } from "../tags.js";

/** LF: a saved expression's name wins over an empty inline list (aws-facts §1.6, trap 3). */
export function policyExpression(policy: PolicyEntry, expressions: Readonly<Record<string, Expression>>): Expression | undefined {
  if (policy.expressionName !== undefined) {
    return Object.hasOwn(expressions, policy.expressionName) ? expressions[policy.expressionName] : undefined;
  }
  return policy.expression ?? {};
}

/** Keys and values sorted: two spellings of one expression get one key. */
export function canonicalExpressionKey(expression: Expression): string {
  return JSON.stringify(
    Object.keys(expression)
      .sort()
      .map((k) => [k, [...(expression[k] ?? [])].sort()]),
  );
}

/**
 * The policy as a plan lists it. Its id hashes what the policy says (principal, resource type,
 * expression name and body, permissions, grant options, condition), never its position, so it is
 * stable across runs and catalog orderings, and two identical policies share one id.
 */
export function policyRef(policy: PolicyEntry, expressions: Readonly<Record<string, Expression>>): PolicyRef {
  const expression = policyExpression(policy, expressions);
  const body = expression === undefined ? "(missing expression)" : describeExpression(expression);
  const permissions = upperSorted(policy.permissions);
  const content = JSON.stringify([
    policy.principal,
    policy.resourceType,
    policy.expressionName ?? null,
    expression === undefined ? null : canonicalExpressionKey(expression),
    permissions,
    upperSorted(policy.permissionsWithGrantOption ?? []),
    policy.condition?.trim() ?? "",
  ]);
  return {
    id: createHash("sha256").update(content).digest("hex").slice(0, 12),
    principal: policy.principal,
    resourceType: policy.resourceType,
    expression: policy.expressionName !== undefined ? `${policy.expressionName}: ${body}` : body,
    permissions,
  };
}

function upperSorted(list: readonly string[]): string[] {
  return [...new Set(list.map((p) => p.toUpperCase()))].sort();
}
