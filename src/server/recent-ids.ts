/**
 * The event ids seen recently, bounded in count and age. EventBridge retries a delivery for up to
 * 24 hours (aws-facts §4.3), so an id is remembered that long, unless more than `max` newer ids
 * push it out first (memory stays bounded whatever the traffic).
 */
export interface RecentIds {
  has(id: string): boolean;
  add(id: string): void;
  readonly size: number;
}

export function createRecentIds(options: { readonly max: number; readonly ttlMs: number; readonly now: () => number }): RecentIds {
  // Insertion order = age order: the oldest entries are the first keys.
  const seen = new Map<string, number>();
  const evictExpired = () => {
    const now = options.now();
    for (const [id, at] of seen) {
      if (now - at < options.ttlMs) break;
      seen.delete(id);
    }
  };
  return {
    has(id) {
      evictExpired();
      return seen.has(id);
    },
    add(id) {
      evictExpired();
      seen.delete(id);
      seen.set(id, options.now());
      if (seen.size > options.max) seen.delete(seen.keys().next().value!);
    },
    get size() {
      return seen.size;
    },
  };
}
