import {
  GetLFTagExpressionCommand,
  ListLFTagExpressionsCommand,
  ListPermissionsCommand,
  type DataLakeResourceType,
  type LakeFormationClient,
  type LFTag,
  type PrincipalResourcePermissions,
} from "@aws-sdk/client-lakeformation";
import { compareStrings } from "../../core/grants.js";
import type { Expression, PolicyEntry, PolicyResourceType } from "../model.js";
import { callAws, collectPages } from "./calls.js";
import { normaliseTag } from "./lf-tags.js";

/**
 * Querying LF_TAG_POLICY alone was seen to miss TABLE-type policies (aws-facts §2.2, trap 2): ask for
 * all three and de-duplicate.
 */
const POLICY_RESOURCE_TYPES: readonly DataLakeResourceType[] = ["LF_TAG_POLICY", "LF_TAG_POLICY_DATABASE", "LF_TAG_POLICY_TABLE"];

export interface TagPolicies {
  readonly policies: readonly PolicyEntry[];
  readonly warnings: readonly string[];
}

/** Every LF-tag policy grant, de-duplicated, permissions unioned, sorted. */
export async function readTagPolicies(lf: LakeFormationClient, catalogId: string | undefined): Promise<TagPolicies> {
  const warnings: string[] = [];
  const merged = new Map<string, MergedPolicy>();
  for (const resourceType of POLICY_RESOURCE_TYPES) {
    const pages = await collectPages("lakeformation:ListPermissions", `resource type ${resourceType}`, (NextToken) =>
      lf.send(new ListPermissionsCommand({ CatalogId: catalogId, ResourceType: resourceType, NextToken })),
    );
    for (const entry of pages.flatMap((p) => p.PrincipalResourcePermissions ?? [])) {
      const policy = policyOf(entry, warnings);
      if (policy === undefined) continue;
      const existing = merged.get(policy.key);
      if (existing === undefined) {
        merged.set(policy.key, policy);
      } else {
        // The same grant can come back split over several entries (aws-facts §1.5): union them.
        for (const p of policy.permissions) existing.permissions.add(p);
        for (const p of policy.permissionsWithGrantOption) existing.permissionsWithGrantOption.add(p);
      }
    }
  }
  const policies = [...merged.values()].sort((a, b) => compareStrings(a.sortKey, b.sortKey)).map(toPolicyEntry);
  return { policies, warnings: [...new Set(warnings)] };
}

/**
 * Saved expressions by name: the whole list, plus any name a policy references that the list did
 * not return (GetLFTagExpression fails, and so the read, if it does not exist).
 */
export async function readNamedExpressions(
  lf: LakeFormationClient,
  catalogId: string | undefined,
  referenced: readonly string[],
): Promise<{ expressions: Record<string, Expression>; warnings: string[] }> {
  const warnings: string[] = [];
  const pages = await collectPages("lakeformation:ListLFTagExpressions", `catalog ${catalogId ?? "(default)"}`, (NextToken) =>
    lf.send(new ListLFTagExpressionsCommand({ CatalogId: catalogId, NextToken })),
  );
  const byName = new Map<string, Expression>();
  for (const named of pages.flatMap((p) => p.LFTagExpressions ?? [])) {
    byName.set(named.Name ?? "", expressionOf(named.Expression, `expression ${named.Name ?? ""}`, warnings));
  }
  for (const name of [...new Set(referenced)].sort(compareStrings)) {
    if (byName.has(name)) continue;
    const response = await callAws("lakeformation:GetLFTagExpression", `expression ${name}`, () =>
      lf.send(new GetLFTagExpressionCommand({ CatalogId: catalogId, Name: name })),
    );
    byName.set(name, expressionOf(response.Expression, `expression ${name}`, warnings));
  }
  const expressions = Object.fromEntries([...byName.keys()].sort(compareStrings).map((name) => [name, byName.get(name) as Expression]));
  return { expressions, warnings };
}

interface MergedPolicy {
  readonly key: string;
  readonly sortKey: string;
  readonly principal: string;
  readonly resourceType: PolicyResourceType;
  readonly expression?: Expression;
  readonly expressionName?: string;
  readonly condition?: string;
  readonly permissions: Set<string>;
  readonly permissionsWithGrantOption: Set<string>;
}

/** A tag-policy grant, or undefined (with a warning when it is one we cannot read safely). */
function policyOf(entry: PrincipalResourcePermissions, warnings: string[]): MergedPolicy | undefined {
  const tagPolicy = entry.Resource?.LFTagPolicy;
  // Named-resource grants (Table, TableWithColumns, ...) are not tag policies: this service follows tags only.
  if (tagPolicy === undefined) return undefined;
  // Principals stay verbatim: the mapping matches them as Lake Formation reports them (aws-facts §2.6).
  const principal = entry.Principal?.DataLakePrincipalIdentifier;
  const label = `tag policy ${tagPolicy.ExpressionName ?? JSON.stringify(tagPolicy.Expression ?? [])} for ${principal ?? "(no principal)"}`;
  if (principal === undefined || principal === "") {
    warnings.push(`skipped ${label}: it names no principal`);
    return undefined;
  }
  const resourceType = tagPolicy.ResourceType;
  if (resourceType !== "DATABASE" && resourceType !== "TABLE") {
    warnings.push(`skipped ${label}: unknown resource type ${String(resourceType)}`);
    return undefined;
  }
  // A name wins over the (default-empty) inline list; an empty list alone is "not inlined", never
  // "match everything" (aws-facts §1.6, trap 3).
  const expressionName = tagPolicy.ExpressionName || undefined;
  let expression: Expression | undefined;
  if (expressionName === undefined) {
    if ((tagPolicy.Expression ?? []).length === 0) {
      warnings.push(`skipped ${label}: neither an expression nor an expression name`);
      return undefined;
    }
    expression = expressionOf(tagPolicy.Expression, label, warnings);
  }
  const condition = entry.Condition?.Expression || undefined;
  const identity = [principal, resourceType, expressionName ?? null, expression ?? null, tagPolicy.CatalogId ?? null, condition ?? null];
  return {
    key: JSON.stringify(identity),
    sortKey: JSON.stringify([principal, resourceType, expressionName ?? "", expression ?? {}, condition ?? "", tagPolicy.CatalogId ?? ""]),
    principal,
    resourceType,
    ...(expression === undefined ? {} : { expression }),
    ...(expressionName === undefined ? {} : { expressionName }),
    ...(condition === undefined ? {} : { condition }),
    permissions: new Set(entry.Permissions ?? []),
    permissionsWithGrantOption: new Set(entry.PermissionsWithGrantOption ?? []),
  };
}

function toPolicyEntry(policy: MergedPolicy): PolicyEntry {
  const withGrantOption = [...policy.permissionsWithGrantOption].sort(compareStrings);
  return {
    principal: policy.principal,
    resourceType: policy.resourceType,
    ...(policy.expression === undefined ? {} : { expression: policy.expression }),
    ...(policy.expressionName === undefined ? {} : { expressionName: policy.expressionName }),
    permissions: [...policy.permissions].sort(compareStrings),
    ...(withGrantOption.length === 0 ? {} : { permissionsWithGrantOption: withGrantOption }),
    ...(policy.condition === undefined ? {} : { condition: policy.condition }),
  };
}

/**
 * LF-tag list -> key -> allowed values, lower-cased and sorted. Entries are ANDed (aws-facts §1.3), so a
 * key listed twice allows only the values common to both: the narrow reading, never a wider one.
 */
function expressionOf(tags: readonly LFTag[] | undefined, where: string, warnings: string[]): Expression {
  const byKey = new Map<string, Set<string>>();
  for (const tag of tags ?? []) {
    const key = normaliseTag(tag.TagKey ?? "");
    const values = new Set((tag.TagValues ?? []).map(normaliseTag));
    const previous = byKey.get(key);
    if (previous !== undefined) {
      warnings.push(`${where}: tag ${key} is listed twice; only the values in both are allowed`);
      byKey.set(key, new Set([...values].filter((v) => previous.has(v))));
    } else {
      byKey.set(key, values);
    }
  }
  return Object.fromEntries([...byKey.keys()].sort(compareStrings).map((key) => [key, [...(byKey.get(key) ?? [])].sort(compareStrings)]));
}
