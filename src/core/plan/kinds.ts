import { GrantColumns, type GrantRegistry } from "../grant-columns.js";
import type { Dialect } from "../grants.js";

/**
 * PostgreSQL has one namespace for groups and roles: `GROUP x` and `ROLE x` name one role, so a
 * slot of group x and the same slot of role x are one privilege (aws-facts §7; Redshift keeps them
 * apart). Before the merge, a recorded slot whose kind no longer matches the mapping is moved to
 * the kind the mapping now asks for: the plan re-records it (a state-only change, no SQL) instead
 * of revoking the group's grant while the role's counts as held outside the service, a one-run
 * access gap (issue 12 item 4).
 */
export interface AlignedKinds {
  /** The recorded side, with re-kinded rows under their new grantee (a copy when any row moved). */
  readonly recorded: GrantColumns;
  /** Per recorded row: the grantee id the state holds it under when it moved, else -1; null when none moved. */
  readonly stateGrantee: Int32Array | null;
  /**
   * Whether a held-only slot is the same privilege as a slot of the other kind (the inventory
   * reports a PostgreSQL role's grants under both kinds): decided there, never twice.
   */
  readonly isShadow: (grantee: number, object: number, privilege: number) => boolean;
}

const NEVER = (): boolean => false;

export function alignKinds(dialect: Dialect, registry: GrantRegistry, desired: GrantColumns, recorded: GrantColumns): AlignedKinds {
  const unchanged: AlignedKinds = { recorded, stateGrantee: null, isShadow: NEVER };
  if (dialect !== "postgres") return unchanged;
  const other = counterparts(registry);
  if (other === null) return unchanged;
  const width = registry.grantees.length * 16;
  const key = (grantee: number, object: number, privilege: number) => object * width + grantee * 16 + privilege;
  const wanted = slotsOf(desired, other, key);
  const kept = slotsOf(recorded, other, key);
  let moved: GrantColumns | null = null;
  let stateGrantee: Int32Array | null = null;
  for (let i = 0; i < recorded.length; i++) {
    const g = recorded.grantee[i]!;
    const c = other[g]!;
    if (c < 0) continue;
    const o = recorded.object[i]!;
    const p = recorded.privilege[i]!;
    // Moved when the mapping asks for the other kind alone; a row the state holds under that kind
    // too merges with it (one privilege: revoking the stale kind's row would take it from both).
    if (wanted.has(key(g, o, p)) || !wanted.has(key(c, o, p))) continue;
    moved ??= copyOf(recorded);
    stateGrantee ??= new Int32Array(recorded.length).fill(-1);
    moved.grantee[i] = c;
    stateGrantee[i] = g;
  }
  const claimed = moved === null ? new Set([...wanted, ...kept]) : new Set([...wanted, ...slotsOf(moved, other, key)]);
  const mapped = new Uint8Array(registry.grantees.length);
  for (let i = 0; i < desired.length; i++) mapped[desired.grantee[i]!] = 1;
  return {
    recorded: moved ?? recorded,
    stateGrantee,
    // Held only: the same privilege as the other kind's slot, or held by a kind the mapping no longer
    // uses while it uses the other (reported, or revoked, once: under the kind the mapping names).
    isShadow: (grantee, object, privilege) => {
      const c = other[grantee] ?? -1;
      return c >= 0 && (claimed.has(key(c, object, privilege)) || (mapped[grantee] === 0 && mapped[c] === 1));
    },
  };
}

/** Per grantee id, the id of the grantee of the same name and the other kind, or -1; null when there is none. */
function counterparts(registry: GrantRegistry): Int32Array | null {
  const byName = new Map<string, number>();
  const other = new Int32Array(registry.grantees.length).fill(-1);
  let any = false;
  registry.grantees.forEach((grantee, id) => {
    const seen = byName.get(grantee.name);
    if (seen === undefined) byName.set(grantee.name, id);
    else {
      other[seen] = id;
      other[id] = seen;
      any = true;
    }
  });
  return any ? other : null;
}

/** The slot keys of the rows whose grantee has a counterpart. */
function slotsOf(side: GrantColumns, other: Int32Array, key: (g: number, o: number, p: number) => number): Set<number> {
  const slots = new Set<number>();
  for (let i = 0; i < side.length; i++) {
    const g = side.grantee[i]!;
    if (other[g]! >= 0) slots.add(key(g, side.object[i]!, side.privilege[i]!));
  }
  return slots;
}

function copyOf(side: GrantColumns): GrantColumns {
  const copy = new GrantColumns();
  for (let i = 0; i < side.length; i++) copy.push(side.grantee[i]!, side.privilege[i]!, side.object[i]!, side.columns[i]!, side.because[i]!);
  return copy;
}
