/**
 * One LF-tag policy as a plan lists it: once, under a stable id. Changes (`because`), pending grants
 * and state rows refer to policies by `id` instead of repeating their labels (a label can be
 * hundreds of KB: an expression of 1,000 values x 250 characters).
 */
export interface PolicyRef {
  /** Stable across runs and catalog orderings: derived from what the policy says, never from its position. */
  readonly id: string;
  /** The Lake Formation principal the policy grants to, as the catalog names it. */
  readonly principal: string;
  readonly resourceType: "DATABASE" | "TABLE";
  /** The expression as text (`Access in (Public, Internal) AND PII in (false)`), or the saved expression's name and body. */
  readonly expression: string;
  readonly permissions: readonly string[];
}
