import type { MappingConfig } from "../../config/schema.js";
import { SyncError } from "../../errors.js";
import { type Diagnostic, warning } from "../diagnostics.js";
import { type Dialect, type Grantee, granteeKey } from "../grants.js";
import type { PrincipalTableAccess } from "../resolve/entitlements.js";
import { foldName } from "./names.js";
import type { MappedPrincipal } from "./principals.js";

/** Policy sets behind a schema's USAGE and CREATE for one grantee (0: not held). */
export interface SchemaSlots {
  usage: number;
  create: number;
}

/** One grantee and everything its principals may do. */
export interface GranteeEntry {
  readonly grantee: Grantee;
  /** Its principals in order of first appearance, and whether each was mapped explicitly. */
  readonly principals: Map<string, boolean>;
  readonly accesses: PrincipalTableAccess[];
  readonly schemas: Map<string, SchemaSlots>;
}

/** Principals grouped by the grantee they map to: principals of one grantee hold the union of their access. */
export class GranteeEntries {
  readonly #byKey = new Map<string, GranteeEntry>();
  readonly #mapPrincipal: (principal: string) => MappedPrincipal | null;

  constructor(mapPrincipal: (principal: string) => MappedPrincipal | null) {
    this.#mapPrincipal = mapPrincipal;
  }

  /** The entry of the principal's grantee, or null when the principal is not mapped. */
  entry(principal: string): GranteeEntry | null {
    const mapped = this.#mapPrincipal(principal);
    if (mapped === null) return null;
    const key = granteeKey(mapped.grantee);
    let entry = this.#byKey.get(key);
    if (entry === undefined) this.#byKey.set(key, (entry = { grantee: mapped.grantee, principals: new Map(), accesses: [], schemas: new Map() }));
    if (!entry.principals.has(principal)) entry.principals.set(principal, mapped.explicit);
    return entry;
  }

  values(): IterableIterator<GranteeEntry> {
    return this.#byKey.values();
  }
}

export function schemaSlots(schemas: Map<string, SchemaSlots>, schema: string): SchemaSlots {
  let slots = schemas.get(schema);
  if (slots === undefined) schemas.set(schema, (slots = { usage: 0, create: 0 }));
  return slots;
}

/**
 * Two different principals on one grantee give each the other's access (issue 13 item 2). Allowed
 * when configured: every one of them named in `mapping.principals`, or the grantee listed in
 * `mapping.sharedGrantees`; reported either way. Otherwise the whole mapping is refused, since
 * dropping the grantee would revoke what it legitimately holds.
 */
export function checkSharedGrantees(entries: Iterable<GranteeEntry>, mapping: MappingConfig, dialect: Dialect, diagnostics: Diagnostic[]): void {
  const shared = new Set(mapping.sharedGrantees.map((name) => foldName(name, dialect)));
  const refused: string[] = [];
  for (const { grantee, principals } of entries) {
    if (principals.size < 2) continue;
    const names = [...principals.keys()].join(", ");
    const what = `principals ${names} all map to ${grantee.kind} ${JSON.stringify(grantee.name)}`;
    if (shared.has(grantee.name) || [...principals.values()].every((explicit) => explicit)) {
      diagnostics.push(warning(`${what}, which holds the union of what each may do (configured)`));
    } else {
      refused.push(what);
    }
  }
  if (refused.length > 0) {
    throw new SyncError(
      "CONFIG_INVALID",
      `mapping refused: ${refused.join("; ")}. One grantee would hold the union of what each principal may do. Map them to different grantees, or list the grantee in mapping.sharedGrantees`,
    );
  }
}
