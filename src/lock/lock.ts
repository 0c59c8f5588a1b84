/**
 * Port: the run lease. At most one run applies to a target at a time.
 */
export interface Lease {
  /** Increases with every acquisition of the same key; recorded in the run log. */
  readonly fencingToken: number;
  readonly owner: string;
  /** False once the lease expired or could not be renewed. */
  isHeld(): boolean;
  /** Throws SyncError("LEASE_LOST") when the lease is no longer held: call before each batch. */
  assertHeld(): void;
  release(): Promise<void>;
}

export interface RunLock {
  /** Takes the lease for `key` or throws SyncError("LEASE_HELD") naming the current holder. */
  acquire(key: string, owner: string): Promise<Lease>;
  close(): Promise<void>;
}
