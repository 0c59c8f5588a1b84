import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors.js";
import { createDynamoDbLock, ensureLeaseTable, type DynamoDbLockOptions } from "../../src/lock/dynamodb-lock.js";
import type { RunLock } from "../../src/lock/lock.js";
import { dynaliteClient, startDynalite, type DynaliteHandle } from "../support/dynalite.js";
import { syncErrorOf } from "../support/failure.js";

const TABLE = "lf_redshift_sync_leases";

let dynamo: DynaliteHandle;
let client: DynamoDBClient;
const locks: RunLock[] = [];
const clients: DynamoDBClient[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
  client = dynaliteClient(dynamo.endpoint);
  await ensureLeaseTable(client, TABLE);
});

afterAll(async () => {
  await Promise.all(locks.map((lock) => lock.close()));
  for (const each of [client, ...clients]) each.destroy();
  await dynamo.stop();
});

/** A lock with its own client, as a separate task would have. */
function newLock(leaseSeconds: number, options: DynamoDbLockOptions = {}, endpoint = dynamo.endpoint): RunLock {
  const own = dynaliteClient(endpoint);
  clients.push(own);
  const lock = createDynamoDbLock({ table: TABLE, leaseSeconds }, { client: own, ...options });
  locks.push(lock);
  return lock;
}

async function readItem(key: string): Promise<{ owner?: string; expiresAt: number; fencing: number }> {
  const { Item: item } = await client.send(
    new GetItemCommand({ TableName: TABLE, Key: { lease_key: { S: key } }, ConsistentRead: true }),
  );
  return { owner: item?.owner?.S, expiresAt: Number(item?.expires_at?.N), fencing: Number(item?.fencing?.N) };
}


async function eventually(condition: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await sleep(10);
  }
}

describe("DynamoDB run lease (dynalite)", () => {
  it("lets exactly one of two racing contenders win, and names the winner to the loser", async () => {
    for (let round = 0; round < 10; round++) {
      const key = `race-${randomUUID()}`;
      const [a, b] = [newLock(30), newLock(30)];
      const results = await Promise.allSettled([a.acquire(key, "task-a"), b.acquire(key, "task-b")]);
      const won = results.filter((result) => result.status === "fulfilled");
      const lost = results.filter((result) => result.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const winner = won[0]!.value;
      const error = lost[0]!.reason as SyncError;
      expect(error).toBeInstanceOf(SyncError);
      expect(error.code).toBe("LEASE_HELD");
      expect(error.message).toContain(winner.owner);
      expect(error.message).toMatch(/until \d{4}-\d\d-\d\dT/);
      expect(winner.fencingToken).toBe(1);
      expect((await readItem(key)).owner).toBe(winner.owner);
      await winner.release();
    }
  });

  it("lets a second owner take over the lease of a crashed holder, with a higher fencing token", async () => {
    const key = `crash-${randomUUID()}`;
    const crashed = await newLock(0.3, { renewEveryMs: 60_000 }).acquire(key, "crashed-task");
    const successor = newLock(30);

    const early = await syncErrorOf(successor.acquire(key, "successor"));
    expect(early.code).toBe("LEASE_HELD");
    expect(early.message).toContain("crashed-task");

    await sleep(400);
    const lease = await successor.acquire(key, "successor");
    expect(lease.fencingToken).toBeGreaterThan(crashed.fencingToken);
    expect(await readItem(key)).toMatchObject({ owner: "successor", fencing: lease.fencingToken });
    expect(crashed.isHeld()).toBe(false);
    expect((await syncErrorOf(() => crashed.assertHeld())).code).toBe("LEASE_LOST");
    await lease.release();
  });

  it("judges expiry by the injected clock", async () => {
    const key = `clock-${randomUUID()}`;
    const holder = await newLock(30, { renewEveryMs: 60_000 }).acquire(key, "holder");
    const skew = 31_000;
    const ahead = await newLock(30, { now: () => Date.now() + skew }).acquire(key, "clock-ahead");
    expect(ahead.fencingToken).toBe(holder.fencingToken + 1);
    expect((await readItem(key)).expiresAt).toBeGreaterThan(Date.now() + skew + 29_000);
    await ahead.release();
  });

  it("keeps a lease alive past its initial expiry by renewing it", async () => {
    const key = `renew-${randomUUID()}`;
    const lease = await newLock(0.3).acquire(key, "long-run");
    const firstExpiry = (await readItem(key)).expiresAt;

    await sleep(800);
    expect(lease.isHeld()).toBe(true);
    expect(() => lease.assertHeld()).not.toThrow();
    expect((await readItem(key)).expiresAt).toBeGreaterThan(firstExpiry + 400);
    expect((await syncErrorOf(newLock(30).acquire(key, "intruder"))).code).toBe("LEASE_HELD");
    await lease.release();
  });

  it("marks the lease lost when another owner takes the item, well before it would expire", async () => {
    const key = `stolen-${randomUUID()}`;
    const lease = await newLock(30, { renewEveryMs: 50 }).acquire(key, "victim");
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { lease_key: { S: key } },
        UpdateExpression: "SET #owner = :owner, expires_at = :expires ADD fencing :one",
        ExpressionAttributeNames: { "#owner": "owner" },
        ExpressionAttributeValues: {
          ":owner": { S: "operator" },
          ":expires": { N: String(Date.now() + 60_000) },
          ":one": { N: "1" },
        },
      }),
    );

    await eventually(() => !lease.isHeld(), 1000);
    const error = await syncErrorOf(() => lease.assertHeld());
    expect(error.code).toBe("LEASE_LOST");
    expect(error.message).toContain("taken over");

    const taken = await readItem(key);
    await lease.release();
    expect(await readItem(key)).toEqual(taken);
  });

  it("marks the lease lost when renewals keep failing until it expires", async () => {
    const lonely = await startDynalite();
    const setup = dynaliteClient(lonely.endpoint);
    await ensureLeaseTable(setup, TABLE);
    setup.destroy();
    const warnings: string[] = [];
    const logger = { warn: (_: object, message: string) => void warnings.push(message), debug: () => undefined };
    const lease = await newLock(0.5, { renewEveryMs: 100, logger }, lonely.endpoint).acquire(
      `outage-${randomUUID()}`,
      "cut-off",
    );

    await lonely.stop();
    await sleep(150);
    expect(lease.isHeld()).toBe(true);
    await eventually(() => !lease.isHeld(), 1500);
    const error = await syncErrorOf(() => lease.assertHeld());
    expect(error.code).toBe("LEASE_LOST");
    expect(error.message).toContain("without a successful renewal");
    expect(error.cause).toBeInstanceOf(Error);
    expect(warnings).toContain("lease renewal failed; retrying until the lease would expire");
    await lease.release();
  });

  it("releases idempotently, and the next acquisition gets the next fencing token", async () => {
    const key = `release-${randomUUID()}`;
    const lock = newLock(30);
    const first = await lock.acquire(key, "run-1");
    await Promise.all([first.release(), first.release()]);
    await first.release();
    expect(first.isHeld()).toBe(false);
    expect((await syncErrorOf(() => first.assertHeld())).code).toBe("LEASE_LOST");

    const second = await newLock(30).acquire(key, "run-2");
    expect(second.fencingToken).toBe(first.fencingToken + 1);
    await second.release();
    const third = await lock.acquire(key, "run-3");
    expect(third.fencingToken).toBe(first.fencingToken + 2);
    await third.release();
  });

  it("leaves the key free when released while a slow renewal is in flight", async () => {
    const slowClient = dynaliteClient(dynamo.endpoint);
    clients.push(slowClient);
    slowClient.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { UpdateExpression?: string };
        if (context.commandName === "UpdateItemCommand" && input.UpdateExpression === "SET expires_at = :expires") {
          await sleep(150);
        }
        return next(args);
      },
      { step: "initialize" },
    );
    const lock = createDynamoDbLock({ table: TABLE, leaseSeconds: 30 }, { client: slowClient, renewEveryMs: 20 });
    locks.push(lock);
    const key = `slow-renewal-${randomUUID()}`;
    const lease = await lock.acquire(key, "busy");

    await sleep(60);
    await lease.release();
    await sleep(200);
    expect((await readItem(key)).expiresAt).toBe(0);
    await (await newLock(30).acquire(key, "next")).release();
  });

  it("does not disturb the new holder when a lease that was taken over is released", async () => {
    const key = `late-release-${randomUUID()}`;
    const stale = await newLock(0.2, { renewEveryMs: 60_000 }).acquire(key, "stale");
    await sleep(300);
    const fresh = await newLock(30).acquire(key, "fresh");
    const before = await readItem(key);

    await stale.release();
    expect(await readItem(key)).toEqual(before);
    expect(fresh.isHeld()).toBe(true);
    const error = await syncErrorOf(newLock(30).acquire(key, "third"));
    expect(error.code).toBe("LEASE_HELD");
    expect(error.message).toContain("fresh");
    await fresh.release();
  });

  it("releases what is still held on close", async () => {
    const key = `close-${randomUUID()}`;
    const lock = newLock(30);
    const lease = await lock.acquire(key, "closing");
    await lock.close();
    expect(lease.isHeld()).toBe(false);
    await (await newLock(30).acquire(key, "next")).release();
  });

  it("creates the lease table idempotently", async () => {
    await expect(ensureLeaseTable(client, TABLE)).resolves.toBeUndefined();
  });

  it("does not keep the process alive while a lease is held", async () => {
    const script = `
      import { createDynamoDbLock } from "./src/lock/dynamodb-lock.ts";
      import { dynaliteClient } from "./test/support/dynalite.ts";
      const lock = createDynamoDbLock({ table: "${TABLE}", leaseSeconds: 30 }, { client: dynaliteClient("${dynamo.endpoint}"), renewEveryMs: 50 });
      const lease = await lock.acquire("exit-${randomUUID()}", "short-lived");
      console.log("acquired", lease.fencingToken);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      timeout: 10_000,
    });
    expect(stdout).toContain("acquired 1");
  });
});
