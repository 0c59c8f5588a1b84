import type { GrantColumns } from "./grant-columns.js";
import type { Grant } from "./grants.js";

/**
 * The part of the target inventory the planner reads (the full type lives with the adapters in
 * src/warehouse/inventory-model.ts and satisfies this one).
 */
export interface InventoryLike {
  readonly schemas: ReadonlySet<string>;
  readonly tables: ReadonlyMap<string, ReadonlySet<string>>;
  readonly grantees: ReadonlySet<string>;
  /** Grant objects, or columns over the plan's registry. */
  readonly held: readonly Grant[] | GrantColumns;
}
