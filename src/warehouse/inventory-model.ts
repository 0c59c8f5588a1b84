import type { Grant, GranteeKind } from "../core/grants.js";

/**
 * What exists in the target database, and what the grantees this service manages actually hold.
 * Read in a few set-based queries (never one round trip per object, DESIGN §6).
 */
export interface TargetInventory {
  readonly schemas: ReadonlySet<string>;
  /** tableKey(schema, table) -> column names. Views count as tables. */
  readonly tables: ReadonlyMap<string, ReadonlySet<string>>;
  /** granteeKey({kind, name}) of every group and role. PostgreSQL lists each role under both kinds. */
  readonly grantees: ReadonlySet<string>;
  /**
   * Privileges explicitly held by the grantees asked about: table-level grants have columns = null,
   * column-level grants list their columns (one Grant per grantee x table x privilege).
   */
  readonly held: readonly Grant[];
  /** Redshift external (Spectrum) schemas; the planner grants nothing in them. */
  readonly externalSchemas?: ReadonlySet<string>;
  /** tableKey(schema, view) of late-binding views (no column grants on them). */
  readonly lateBindingViews?: ReadonlySet<string>;
  /** Superusers and other identities the service never grants to or revokes from. */
  readonly superusers?: ReadonlySet<string>;
}

export interface InventoryRequest {
  /** The grantees whose privileges matter (desired or recorded); others are never read. */
  readonly grantees: readonly { readonly kind: GranteeKind; readonly name: string }[];
  /** Schemas the state schema lives in and other schemas never to report. */
  readonly excludeSchemas: readonly string[];
  /** Read these schemas only (an incremental run's scope); absent: every schema. */
  readonly onlySchemas?: readonly string[];
  /**
   * A hint for an incremental run naming a few tables: table-level reads (columns, relation and
   * column privileges) may be limited to these; schema-level reads still follow onlySchemas. The
   * Redshift inventory uses it (a schema of 5k tables is ~100k column rows through the Data API);
   * the PostgreSQL one reads the whole schemas, which is never wrong, only slower.
   */
  readonly onlyTables?: readonly { readonly schema: string; readonly table: string }[];
}
