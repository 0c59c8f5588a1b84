import { describe, expect, it } from "vitest";
import { MAX_BATCH_BYTES, MAX_BATCH_STATEMENTS } from "../../src/core/render.js";
import { byteLength } from "../../src/core/sql.js";
import type { Lease } from "../../src/lock/lock.js";
import { renderOptions } from "../../src/run/apply.js";
import { fenceStatement } from "../../src/warehouse/state-store.js";

/**
 * A fenced batch is the fence's UPDATE (state/fence.ts) and then what render.ts packed: the packing
 * must leave room for it, in statements and in bytes, so that what is sent stays within the Data
 * API's 40 statements and, as render.ts bounds a call, 100 KB (aws-facts §5.3, trap 15).
 */
const lease: Lease = { fencingToken: 123_456_789, owner: "test", isHeld: () => true, assertHeld: () => undefined, release: () => Promise.resolve() };

describe("apply's render options", () => {
  it("leave a fenced batch room for the fence: one statement and its bytes", () => {
    const options = renderOptions("redshift", { stateSchema: "lfsync", runId: "run-1", at: new Date(0), lease, fence: true });
    const fence = fenceStatement("lfsync", lease.fencingToken);
    expect((options.maxBatchStatements ?? MAX_BATCH_STATEMENTS) + 1).toBeLessThanOrEqual(MAX_BATCH_STATEMENTS);
    expect((options.maxBatchBytes ?? MAX_BATCH_BYTES.redshift) + byteLength(fence)).toBeLessThanOrEqual(MAX_BATCH_BYTES.redshift);
  });

  it("keep the dialect's limits for an unfenced batch", () => {
    const options = renderOptions("redshift", { stateSchema: "lfsync", runId: "run-1", at: new Date(0) });
    expect(options.maxBatchStatements ?? MAX_BATCH_STATEMENTS).toBe(MAX_BATCH_STATEMENTS);
    expect(options.maxBatchBytes ?? MAX_BATCH_BYTES.redshift).toBe(MAX_BATCH_BYTES.redshift);
    expect(renderOptions("postgres", { stateSchema: "lfsync", runId: "run-1", at: new Date(0), lease, fence: true }).maxBatchBytes).toBe(Infinity);
  });
});
