import { describe, expect, it } from "vitest";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { syncErrorOf } from "../support/failure.js";


describe("memory run lease", () => {
  it("refuses a second acquisition of a held key, naming the holder", async () => {
    const lock = createMemoryLock();
    const lease = await lock.acquire("target-a", "run-1");
    expect(lease.isHeld()).toBe(true);
    expect(() => lease.assertHeld()).not.toThrow();

    const error = await syncErrorOf(lock.acquire("target-a", "run-2"));
    expect(error.code).toBe("LEASE_HELD");
    expect(error.message).toContain("run-1");
    expect(error.message).toContain(`fencing ${lease.fencingToken}`);
  });

  it("lets exactly one of two concurrent acquisitions win", async () => {
    const lock = createMemoryLock();
    const results = await Promise.allSettled([lock.acquire("k", "a"), lock.acquire("k", "b")]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((result) => result.status === "rejected")).toHaveLength(1);
  });

  it("keeps keys independent", async () => {
    const lock = createMemoryLock();
    const a = await lock.acquire("target-a", "run");
    const b = await lock.acquire("target-b", "run");
    expect([a.fencingToken, b.fencingToken]).toEqual([1, 1]);
  });

  it("increments the fencing token with every acquisition, across releases", async () => {
    const lock = createMemoryLock();
    const tokens: number[] = [];
    for (let run = 0; run < 3; run++) {
      const lease = await lock.acquire("target", `run-${run}`);
      tokens.push(lease.fencingToken);
      await lease.release();
    }
    expect(tokens).toEqual([1, 2, 3]);
  });

  it("releases idempotently; a released lease is lost", async () => {
    const lock = createMemoryLock();
    const lease = await lock.acquire("target", "run");
    await lease.release();
    await lease.release();
    expect(lease.isHeld()).toBe(false);
    expect((await syncErrorOf(() => lease.assertHeld())).code).toBe("LEASE_LOST");
  });

  it("does not free the key for the next holder when a stale lease is released again", async () => {
    const lock = createMemoryLock();
    const first = await lock.acquire("target", "run-1");
    await first.release();
    const second = await lock.acquire("target", "run-2");
    await first.release();
    expect(second.isHeld()).toBe(true);
    expect((await syncErrorOf(lock.acquire("target", "run-3"))).message).toContain("run-2");
  });

  it("releases every held lease on close", async () => {
    const lock = createMemoryLock();
    const lease = await lock.acquire("target", "run");
    await lock.close();
    expect(lease.isHeld()).toBe(false);
    expect((await lock.acquire("target", "after-close")).fencingToken).toBe(2);
  });
});
