import type { CatalogSnapshot, CatalogSource } from "../catalog/model.js";

export interface CachedSnapshot {
  readonly snapshot: CatalogSnapshot;
  readonly warnings: readonly string[];
  /** When the full read that this snapshot descends from started. */
  readonly readAt: Date;
}

/** The last full snapshot, patched by incremental runs; GET /plan can serve it without a read. */
export interface SnapshotCache {
  /** The source to run full reads through: each successful read replaces the cached snapshot. */
  readonly source: CatalogSource;
  last(): CachedSnapshot | null;
  /** A patched snapshot; keeps the time of the full read it descends from (its age bounds drift). */
  patch(snapshot: CatalogSnapshot): void;
  /** A source that answers from the cache (falls back to a full read when nothing is cached). */
  readonly cachedSource: CatalogSource;
}

export function createSnapshotCache(source: CatalogSource, now: () => Date = () => new Date()): SnapshotCache {
  let cached: CachedSnapshot | null = null;
  const read = async () => {
    const readAt = now();
    const result = await source.read();
    cached = { snapshot: result.snapshot, warnings: result.warnings, readAt };
    return result;
  };
  const withResources = (reader: () => ReturnType<CatalogSource["read"]>): CatalogSource =>
    source.resources === undefined ? { read: reader } : { read: reader, resources: source.resources };
  return {
    source: withResources(read),
    cachedSource: withResources(async () => (cached === null ? read() : { snapshot: cached.snapshot, warnings: cached.warnings })),
    last: () => cached,
    patch(snapshot) {
      if (cached !== null) cached = { ...cached, snapshot };
    },
  };
}
