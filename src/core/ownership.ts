import type { Grantee } from "./grants.js";
import { globMatcher } from "./map.js";

/**
 * Who owns a held grant (README "Adopting an existing warehouse"):
 * - recorded: only what the service recorded is ever revoked (the default);
 * - adopt: a held grant Lake Formation allows, in exactly the form the plan wants, is recorded as owned;
 * - authoritative: adopt, and every held privilege Lake Formation does not allow on a managed schema is revoked.
 */
export type OwnershipMode = "recorded" | "adopt" | "authoritative";

export interface OwnershipRule {
  /** Grantee names or globs (`*`, `?`), as the warehouse spells them. */
  readonly grantees: readonly string[];
  readonly mode: OwnershipMode;
  /** Restrict the rule to one kind of grantee. */
  readonly kind?: Grantee["kind"] | undefined;
}

/** The mode of each grantee: the first matching rule wins, else `recorded`. */
export function ownershipResolver(rules: readonly OwnershipRule[]): (grantee: Grantee) => OwnershipMode {
  const compiled = rules.map((r) => ({ matches: globMatcher(r.grantees), mode: r.mode, kind: r.kind }));
  const cache = new Map<string, OwnershipMode>();
  return (grantee) => {
    const key = `${grantee.kind}:${grantee.name}`;
    let mode = cache.get(key);
    if (mode === undefined) {
      mode = compiled.find((r) => (r.kind === undefined || r.kind === grantee.kind) && r.matches(grantee.name))?.mode ?? "recorded";
      cache.set(key, mode);
    }
    return mode;
  };
}
