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
  /**
   * Redshift external (Spectrum) schemas: Lake Formation governs them itself, and a GRANT on them
   * inside a transaction fails, so the planner never grants table privileges there (it reports them).
   */
  readonly externalSchemas?: ReadonlySet<string>;
  /** tableKey(schema, view) of late-binding views: Redshift has no column grants on them. */
  readonly lateBindingViews?: ReadonlySet<string>;
  /** Names of superusers (and of identities Redshift manages itself): never granted to or revoked from. */
  readonly superusers?: ReadonlySet<string>;
}
