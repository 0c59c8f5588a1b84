import type { MappingConfig } from "../../config/schema.js";
import { type Diagnostic, error, warning } from "../diagnostics.js";
import type { Dialect, Grantee } from "../grants.js";
import { foldName, invalidNameReason } from "./names.js";
import { describeReserved, reservedGrantee } from "./reserved.js";

/** A principal's grantee, and whether `mapping.principals` names it (an explicit choice) or a rule made it. */
export interface MappedPrincipal {
  readonly grantee: Grantee;
  readonly explicit: boolean;
}

const ACCOUNT = /^arn:aws[a-z-]*:iam::(\d{12}):/;
const ROLE_WITH_PATH = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+\//;

/**
 * Principal -> grantee (DESIGN §3): the explicit map first, then the rules, for principals of the
 * catalog's own account only unless `mapping.accounts` lists others (issue 13 item 2: a principal
 * of another account must never collapse into a local group). The name is folded as the dialect
 * folds identifiers, then checked against its limit and the reserved names. Unmapped principals are
 * reported, never guessed.
 */
export function principalMapper(mapping: MappingConfig, catalogId: string | undefined, dialect: Dialect, diagnostics: Diagnostic[]): (principal: string) => MappedPrincipal | null {
  const rules = mapping.principalRules.map((rule) => ({ ...rule, regex: new RegExp(rule.match) }));
  const accounts = mapping.accounts ?? (catalogId === undefined ? undefined : [catalogId]);
  let unknownAccountReported = false;
  const cache = new Map<string, MappedPrincipal | null>();
  const byRules = (principal: string): Grantee | null => {
    const account = ACCOUNT.exec(principal)?.[1];
    if (account !== undefined && accounts === undefined) {
      if (!unknownAccountReported) diagnostics.push(error(`the catalog's own account is unknown (the snapshot has no catalogId), so principal rules map no IAM principal: set source.catalogId or mapping.accounts`));
      unknownAccountReported = true;
      return null;
    }
    if (account !== undefined && !accounts!.includes(account)) {
      diagnostics.push(warning(`principal ${principal} belongs to account ${account}, not to ${accounts!.join(", ")}: not mapped (map it in mapping.principals, or list its account in mapping.accounts)`));
      return null;
    }
    const grantee = granteeByRules(principal, rules);
    if (grantee === null) {
      const hint = ROLE_WITH_PATH.test(principal) ? " (a role with an IAM path: the default rule maps only roles without one)" : "";
      diagnostics.push(warning(`principal ${principal} has no grantee mapping${hint}: its policies are not applied`));
    }
    return grantee;
  };
  return (principal) => {
    const cached = cache.get(principal);
    if (cached !== undefined || cache.has(principal)) return cached ?? null;
    const explicit = explicitGrantee(mapping, principal);
    const raw = explicit ?? byRules(principal);
    const mapped = raw === null ? null : checkedGrantee(principal, { kind: raw.kind, name: foldName(raw.name, dialect) }, dialect, diagnostics);
    const result = mapped === null ? null : { grantee: mapped, explicit: explicit !== null };
    cache.set(principal, result);
    return result;
  };
}

function explicitGrantee(mapping: MappingConfig, principal: string): Grantee | null {
  const explicit = Object.hasOwn(mapping.principals, principal) ? mapping.principals[principal] : undefined;
  if (explicit === undefined) return null;
  return typeof explicit === "string" ? { kind: "group", name: explicit } : { kind: explicit.kind, name: explicit.name };
}

type Rule = MappingConfig["principalRules"][number] & { readonly regex: RegExp };

function granteeByRules(principal: string, rules: readonly Rule[]): Grantee | null {
  for (const rule of rules) {
    const m = rule.regex.exec(principal);
    if (m === null || m[0] !== principal) continue;
    const name = principal.replace(rule.regex, rule.grantee);
    return { kind: rule.kind, name: rule.lowercase ? name.toLowerCase() : name };
  }
  return null;
}

/** The grantee, or null with an error when its name cannot be used (never truncated) or is reserved. */
function checkedGrantee(principal: string, grantee: Grantee, dialect: Dialect, diagnostics: Diagnostic[]): Grantee | null {
  const invalid = invalidNameReason(grantee.name, dialect);
  if (invalid !== null) {
    // The target would truncate the name and grant to another grantee (DESIGN §3: never truncated).
    diagnostics.push(error(`principal ${principal}: grantee name ${JSON.stringify(grantee.name)} ${invalid}: skipped, never truncated`));
    return null;
  }
  const reserved = reservedGrantee(grantee.name);
  if (reserved !== null) {
    diagnostics.push(error(`principal ${principal} maps to ${grantee.kind} ${JSON.stringify(grantee.name)}, which is reserved (${describeReserved(reserved)}): the service never grants to or revokes from it; fix the mapping`));
    return null;
  }
  return grantee;
}

/** The grantee a principal maps to, or null, exactly as mapEntitlements maps it (reports, explain); diagnostics dropped. */
export function granteeOfPrincipal(mapping: MappingConfig, dialect: Dialect, catalogId?: string): (principal: string) => Grantee | null {
  const mapPrincipal = principalMapper(mapping, catalogId, dialect, []);
  return (principal) => mapPrincipal(principal)?.grantee ?? null;
}
