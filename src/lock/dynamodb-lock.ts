import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { SyncError } from "../errors.js";
import type { Lease, RunLock } from "./lock.js";

/**
 * The run lease in DynamoDB: one item per lease key.
 *
 *   lease_key (S, partition key) | owner (S) | expires_at (N, epoch ms) | fencing (N)
 *   | acquired_at (N, epoch ms) | released_at (N, epoch ms, only after a release)
 *
 * Every write is conditional, so the table itself decides between contenders. A release does not
 * delete the item: it expires it, because deleting would also reset `fencing`, and a fencing token
 * recorded in the run log must never be handed out twice for the same key.
 */
export interface DynamoDbLockConfig {
  table: string;
  region?: string;
  endpoint?: string;
  leaseSeconds: number;
}

/** The part of a pino logger the lease uses. */
export interface LeaseLogger {
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export interface DynamoDbLockOptions {
  /** Used as is and not destroyed by close(); otherwise the lock builds (and owns) one from config. */
  client?: DynamoDBClient;
  /** Epoch ms; every holder's clock must agree within a small fraction of leaseSeconds. */
  now?: () => number;
  /** Default leaseSeconds / 3: two renewals may fail before the lease would expire. */
  renewEveryMs?: number;
  logger?: LeaseLogger;
}

interface LeaseStore {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly now: () => number;
  readonly leaseMs: number;
  readonly renewEveryMs: number;
  readonly logger: LeaseLogger | undefined;
}

interface Holder {
  owner: string;
  expiresAt: number;
  fencing: number;
}

const OWNER = { "#owner": "owner" }; // `owner` is a DynamoDB reserved word.

function isConditionFailed(error: unknown): boolean {
  // By name, not instanceof: an injected client may come from another copy of the SDK.
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

async function readHolder(store: LeaseStore, key: string): Promise<Holder | undefined> {
  const { Item: item } = await store.client.send(
    new GetItemCommand({ TableName: store.table, Key: { lease_key: { S: key } }, ConsistentRead: true }),
  );
  if (item === undefined) return undefined;
  return {
    owner: item.owner?.S ?? "(unknown)",
    expiresAt: Number(item.expires_at?.N ?? 0),
    fencing: Number(item.fencing?.N ?? 0),
  };
}

async function describeHolder(store: LeaseStore, key: string): Promise<string> {
  try {
    const holder = await readHolder(store, key);
    if (holder === undefined) return "a holder that has released it since";
    return `${holder.owner} until ${iso(holder.expiresAt)} (fencing ${holder.fencing})`;
  } catch (error) {
    store.logger?.warn({ err: error, key }, "could not read the lease holder");
    return "another owner (could not read which)";
  }
}

class DynamoDbLease implements Lease {
  private expiresAt: number;
  private lost: SyncError | undefined;
  private lastRenewalError: unknown;
  private timer: NodeJS.Timeout | undefined;
  private renewal: Promise<void> | undefined;
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly store: LeaseStore,
    readonly key: string,
    readonly owner: string,
    readonly fencingToken: number,
    expiresAt: number,
    private readonly onReleased: (lease: DynamoDbLease) => void,
  ) {
    this.expiresAt = expiresAt;
    this.scheduleRenewal();
  }

  isHeld(): boolean {
    return this.releasing === undefined && this.checkExpiry() === undefined;
  }

  assertHeld(): void {
    if (this.releasing !== undefined) {
      throw new SyncError("LEASE_LOST", `lease "${this.key}" (fencing ${this.fencingToken}) was released`);
    }
    const lost = this.checkExpiry();
    if (lost !== undefined) throw lost;
  }

  release(): Promise<void> {
    this.releasing ??= this.expireItem();
    return this.releasing;
  }

  /** A lease is lost for good once its known expiry passes, even if a late renewal would succeed. */
  private checkExpiry(): SyncError | undefined {
    if (this.lost === undefined && this.store.now() >= this.expiresAt) {
      this.markLost(`expired at ${iso(this.expiresAt)} without a successful renewal`, this.lastRenewalError);
    }
    return this.lost;
  }

  private markLost(why: string, cause?: unknown): void {
    if (this.lost !== undefined) return;
    clearTimeout(this.timer);
    this.lost = new SyncError("LEASE_LOST", `lease "${this.key}" held by ${this.owner} (fencing ${this.fencingToken}) ${why}`, {
      cause,
    });
    this.store.logger?.warn({ err: this.lost, key: this.key, fencing: this.fencingToken }, "lease lost");
  }

  private scheduleRenewal(): void {
    if (this.releasing !== undefined || this.lost !== undefined) return;
    this.timer = setTimeout(() => {
      this.renewal = this.renew().finally(() => {
        this.renewal = undefined;
        this.scheduleRenewal();
      });
    }, this.store.renewEveryMs);
    // A forgotten lease must not keep the process alive; it simply expires.
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const sentAt = this.store.now();
    if (this.checkExpiry() !== undefined) return;
    const expiresAt = sentAt + this.store.leaseMs;
    try {
      await this.store.client.send(
        new UpdateItemCommand({
          TableName: this.store.table,
          Key: { lease_key: { S: this.key } },
          UpdateExpression: "SET expires_at = :expires",
          ConditionExpression: "#owner = :me AND fencing = :fencing",
          ExpressionAttributeNames: OWNER,
          ExpressionAttributeValues: {
            ":expires": { N: String(expiresAt) },
            ":me": { S: this.owner },
            ":fencing": { N: String(this.fencingToken) },
          },
        }),
      );
      this.expiresAt = Math.max(this.expiresAt, expiresAt);
      this.lastRenewalError = undefined;
    } catch (error) {
      if (isConditionFailed(error)) {
        this.markLost("was taken over by another owner", error);
        return;
      }
      this.lastRenewalError = error;
      this.store.logger?.warn(
        { err: error, key: this.key, expiresAt: iso(this.expiresAt) },
        "lease renewal failed; retrying until the lease would expire",
      );
      this.checkExpiry();
    }
  }

  private async expireItem(): Promise<void> {
    clearTimeout(this.timer);
    // A renewal landing after the release would hold the key again for a whole lease.
    await this.renewal;
    const releasedAt = this.store.now();
    try {
      await this.store.client.send(
        new UpdateItemCommand({
          TableName: this.store.table,
          Key: { lease_key: { S: this.key } },
          UpdateExpression: "SET expires_at = :zero, released_at = :now",
          ConditionExpression: "#owner = :me AND fencing = :fencing",
          ExpressionAttributeNames: OWNER,
          ExpressionAttributeValues: {
            ":zero": { N: "0" },
            ":now": { N: String(releasedAt) },
            ":me": { S: this.owner },
            ":fencing": { N: String(this.fencingToken) },
          },
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) {
        this.store.logger?.debug({ key: this.key, fencing: this.fencingToken }, "lease already taken over; nothing to release");
      } else {
        // The run is over either way; an unreleased lease expires by itself.
        this.store.logger?.warn({ err: error, key: this.key }, "could not release the lease; it will expire");
      }
    } finally {
      this.onReleased(this);
    }
  }
}

async function acquireItem(store: LeaseStore, key: string, owner: string): Promise<{ fencing: number; expiresAt: number }> {
  const now = store.now();
  const expiresAt = now + store.leaseMs;
  try {
    const { Attributes: item } = await store.client.send(
      new UpdateItemCommand({
        TableName: store.table,
        Key: { lease_key: { S: key } },
        UpdateExpression: "SET #owner = :owner, expires_at = :expires, acquired_at = :now REMOVE released_at ADD fencing :one",
        ConditionExpression: "attribute_not_exists(lease_key) OR expires_at < :now",
        ExpressionAttributeNames: OWNER,
        ExpressionAttributeValues: {
          ":owner": { S: owner },
          ":expires": { N: String(expiresAt) },
          ":now": { N: String(now) },
          ":one": { N: "1" },
        },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const fencing = Number(item?.fencing?.N);
    if (!Number.isSafeInteger(fencing)) throw new TypeError(`lease "${key}" has no numeric fencing attribute`);
    return { fencing, expiresAt };
  } catch (error) {
    if (isConditionFailed(error)) {
      throw new SyncError("LEASE_HELD", `lease "${key}" is held by ${await describeHolder(store, key)}`, { cause: error });
    }
    throw new Error(`could not acquire lease "${key}" in DynamoDB table ${store.table}`, { cause: error });
  }
}

export function createDynamoDbLock(config: DynamoDbLockConfig, options: DynamoDbLockOptions = {}): RunLock {
  if (!(config.leaseSeconds > 0)) throw new RangeError(`leaseSeconds must be positive, got ${config.leaseSeconds}`);
  const leaseMs = config.leaseSeconds * 1000;
  const renewEveryMs = options.renewEveryMs ?? Math.floor(leaseMs / 3);
  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new DynamoDBClient({
      region: config.region,
      endpoint: config.endpoint,
      // A hung request would hold up the renewal loop and release(); a renewal that takes longer
      // than its interval is as good as failed.
      requestHandler: { requestTimeout: renewEveryMs, connectionTimeout: Math.min(renewEveryMs, 5000) },
    });
  const store: LeaseStore = { client, table: config.table, now: options.now ?? Date.now, leaseMs, renewEveryMs, logger: options.logger };
  const active = new Set<DynamoDbLease>();

  return {
    async acquire(key: string, owner: string): Promise<Lease> {
      const { fencing, expiresAt } = await acquireItem(store, key, owner);
      const lease = new DynamoDbLease(store, key, owner, fencing, expiresAt, (released) => active.delete(released));
      active.add(lease);
      return lease;
    },

    async close(): Promise<void> {
      await Promise.all([...active].map((lease) => lease.release()));
      if (ownsClient) client.destroy();
    },
  };
}

/** Creates the lease table if it is missing (tests, local use; production tables come from IaC). */
export async function ensureLeaseTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: "lease_key", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "lease_key", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === "ResourceInUseException")) throw error;
  }
  await waitUntilTableExists({ client, minDelay: 1, maxDelay: 5, maxWaitTime: 120 }, { TableName: table });
}
