/**
 * The catalog as the core sees it: the normalised form of DESIGN §4.1. Tag keys and values are
 * lower-cased once, at the source boundary (aws-facts §1.1: Lake Formation stores them lower-cased).
 */
export type TagMap = Readonly<Record<string, string>>;

/** key -> allowed values: AND across keys, OR within a key (aws-facts §1.3). */
export type Expression = Readonly<Record<string, readonly string[]>>;

export type PolicyResourceType = "DATABASE" | "TABLE";

export interface ColumnEntry {
  readonly name: string;
  readonly tags: TagMap;
}

export interface TableEntry {
  readonly name: string;
  readonly tags: TagMap;
  /** StorageDescriptor.Columns followed by PartitionKeys: partition keys are columns too (aws-facts trap 19). */
  readonly columns: readonly ColumnEntry[];
}

export interface DatabaseEntry {
  readonly name: string;
  readonly tags: TagMap;
  readonly tables: readonly TableEntry[];
}

export interface PolicyEntry {
  /** DataLakePrincipalIdentifier, as Lake Formation reports it. */
  readonly principal: string;
  readonly resourceType: PolicyResourceType;
  /** Inline expression; absent when the policy names a saved expression. */
  readonly expression?: Expression;
  /** Name of a saved expression; wins over an empty inline list (aws-facts §1.6). */
  readonly expressionName?: string;
  readonly permissions: readonly string[];
  readonly permissionsWithGrantOption?: readonly string[];
  /** Cedar condition text; has no Redshift equivalent, so such a policy is reported and skipped. */
  readonly condition?: string;
}

export interface CatalogSnapshot {
  readonly catalogId?: string;
  /** LF-tag ontology: key -> allowed values. */
  readonly tags: Readonly<Record<string, readonly string[]>>;
  readonly databases: readonly DatabaseEntry[];
  readonly expressions: Readonly<Record<string, Expression>>;
  readonly policies: readonly PolicyEntry[];
}

/** What a source returns: the snapshot plus what it noticed and skipped (resource links, ...). */
export interface SourceResult {
  readonly snapshot: CatalogSnapshot;
  readonly warnings: readonly string[];
}

/**
 * Port: where the catalog comes from. A source either returns the whole catalog or throws a
 * SyncError("SOURCE_INCOMPLETE"): a run that cannot read everything must apply nothing.
 */
export interface CatalogSource {
  read(): Promise<SourceResult>;
  /** Reads of single resources, for incremental runs; absent: every event leads to a full run. */
  readonly resources?: ResourceReader;
}

/**
 * Reads of the one resource an event names (issue 11). Each throws SyncError("SOURCE_INCOMPLETE")
 * when the read fails: an incremental run then applies nothing, like a full one.
 */
export interface ResourceReader {
  /** The table's columns and assigned tags; null when the catalog no longer lists it. */
  readTable(database: string, table: string): Promise<TableEntry | null>;
  /** The database's assigned tags; null when the catalog no longer lists it. */
  readDatabaseTags(database: string): Promise<TagMap | null>;
  /** Every tag policy and saved expression (a handful of pages, whatever the catalog's size). */
  readPolicies(): Promise<{ readonly policies: readonly PolicyEntry[]; readonly expressions: Readonly<Record<string, Expression>>; readonly warnings: readonly string[] }>;
}
