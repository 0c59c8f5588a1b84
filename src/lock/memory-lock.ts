import { SyncError } from "../errors.js";
import type { Lease, RunLock } from "./lock.js";

interface KeyState {
  /** Survives releases so that fencing tokens keep increasing for the life of the process. */
  fencing: number;
  holder: MemoryLease | undefined;
}

class MemoryLease implements Lease {
  private released = false;

  constructor(
    readonly key: string,
    readonly owner: string,
    readonly fencingToken: number,
    readonly acquiredAt: Date,
    private readonly state: KeyState,
  ) {}

  isHeld(): boolean {
    return !this.released;
  }

  assertHeld(): void {
    if (this.released) {
      throw new SyncError("LEASE_LOST", `lease "${this.key}" (fencing ${this.fencingToken}) was released`);
    }
  }

  release(): Promise<void> {
    this.released = true;
    // A stale lease must not free the key for someone who acquired it after this one.
    if (this.state.holder === this) this.state.holder = undefined;
    return Promise.resolve();
  }
}

/** A RunLock for a single process: the lease never expires, it is held until released. */
export function createMemoryLock(): RunLock {
  const keys = new Map<string, KeyState>();

  return {
    acquire(key: string, owner: string): Promise<Lease> {
      let state = keys.get(key);
      if (state === undefined) {
        state = { fencing: 0, holder: undefined };
        keys.set(key, state);
      }
      const holder = state.holder;
      if (holder !== undefined) {
        return Promise.reject(
          new SyncError(
            "LEASE_HELD",
            `lease "${key}" is held by ${holder.owner} since ${holder.acquiredAt.toISOString()} ` +
              `(fencing ${holder.fencingToken}, this process)`,
          ),
        );
      }
      state.fencing += 1;
      const lease = new MemoryLease(key, owner, state.fencing, new Date(), state);
      state.holder = lease;
      return Promise.resolve(lease);
    },

    async close(): Promise<void> {
      await Promise.all([...keys.values()].map((state) => state.holder?.release()));
    },
  };
}
