import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import { createMemoryLock } from "../../src/lock/memory-lock.js";
import { reconcile } from "../../src/run/reconcile.js";
import { createPgliteExecutor } from "../../src/warehouse/postgres-executor.js";

describe("reconcile: a failure inside the service (issue 13 item 5)", () => {
  it("is classified INTERNAL, not TARGET_FAILED", async () => {
    const executor = await createPgliteExecutor({});
    try {
      const config = configSchema.parse({ source: { kind: "file", path: "unused.yaml" }, target: { kind: "pglite" } });
      // What a plan too large for one string did: a RangeError from the runtime, not from the database.
      const source = { read: () => Promise.reject(new RangeError("Invalid string length")) };
      const summary = await reconcile({ config, source, executor, lock: createMemoryLock(), logger: createLogger("silent") });
      expect(summary.status).toBe("failed");
      expect(summary.error?.code).toBe("INTERNAL");
      expect(summary.error?.message).toContain("Invalid string length");
    } finally {
      await executor.close();
    }
  });
});
