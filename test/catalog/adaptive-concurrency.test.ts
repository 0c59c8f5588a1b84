/**
 * Adaptive concurrency of the catalog reads (issue 11): AIMD on throttling. The rule on a fake
 * clock, mapLimited under a limit that moves, and the whole read with the real SDK clients against
 * a local endpoint that throttles whatever exceeds its capacity.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsSource } from "../../src/catalog/aws-source.js";
import { AdaptiveConcurrency, isThrottling } from "../../src/catalog/aws/adaptive-concurrency.js";
import { mapLimited } from "../../src/catalog/aws/limit.js";
import { ACCOUNT, awsSourceConfig } from "../support/aws-catalog.js";
import { startFakeAwsEndpoint, type FakeAwsEndpoint } from "../support/aws-endpoint.js";

describe("AdaptiveConcurrency (AIMD)", () => {
  function limiter(max: number, holdMs = 100) {
    let clock = 0;
    const limit = new AdaptiveConcurrency(max, holdMs, () => clock);
    return { limit, advance: (ms: number) => (clock += ms) };
  }

  it("starts at the configured maximum and halves on a throttled attempt, never below 1", () => {
    const { limit, advance } = limiter(8);
    expect(limit.current).toBe(8);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      limit.onThrottle();
      seen.push(limit.current);
      advance(100);
    }
    expect(seen).toEqual([4, 2, 1, 1, 1]);
  });

  it("counts a burst of throttled answers within holdMs as one decrease", () => {
    const { limit, advance } = limiter(8);
    limit.onThrottle();
    advance(10);
    limit.onThrottle();
    limit.onThrottle();
    expect({ current: limit.current, throttles: limit.throttles, decreases: limit.decreases }).toEqual({ current: 4, throttles: 3, decreases: 1 });
  });

  it("grows by one per `current` successes, not during holdMs after a decrease, and never above the maximum", () => {
    const { limit, advance } = limiter(4);
    limit.onThrottle(); // 2
    for (let i = 0; i < 10; i++) limit.onSuccess();
    expect(limit.current).toBe(2); // still inside holdMs
    advance(100);
    limit.onSuccess();
    expect(limit.current).toBe(2);
    limit.onSuccess();
    expect(limit.current).toBe(3);
    for (let i = 0; i < 3; i++) limit.onSuccess();
    expect(limit.current).toBe(4);
    for (let i = 0; i < 20; i++) limit.onSuccess();
    expect(limit.current).toBe(4);
  });

  it("knows AWS throttling errors by name and by HTTP 429", () => {
    const named = (name: string, status?: number) => Object.assign(new Error("x"), { name, $metadata: { httpStatusCode: status } });
    expect(isThrottling(named("ThrottlingException"))).toBe(true);
    expect(isThrottling(named("Throttling"))).toBe(true);
    expect(isThrottling(named("TooManyRequestsException"))).toBe(true);
    expect(isThrottling(named("SomethingElse", 429))).toBe(true);
    expect(isThrottling(named("AccessDeniedException", 403))).toBe(false);
    expect(isThrottling("ThrottlingException")).toBe(false);
  });
});

describe("mapLimited under a limit that changes", () => {
  it("never has more calls in flight than the limit allowed when each started, and keeps item order", async () => {
    const limit = { current: 6, max: 6 };
    let inFlight = 0;
    const violations: string[] = [];
    const results = await mapLimited(
      Array.from({ length: 60 }, (_, i) => i),
      limit,
      async (item) => {
        inFlight++;
        if (inFlight > limit.current) violations.push(`${item}: ${inFlight} > ${limit.current}`);
        if (item === 10) limit.current = 2;
        if (item === 40) limit.current = 5;
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return item * 2;
      },
    );
    // Calls already running when the limit drops may finish; no new one starts above it.
    expect(violations.filter((v) => Number(v.split(":")[0]) > 20)).toEqual([]);
    expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i * 2));
  });
});

describe("a full read against an endpoint that throttles above its capacity (real SDK clients)", () => {
  const CAPACITY = 2;
  const TABLES = 80;
  let endpoint: FakeAwsEndpoint;
  let inFlight = 0;
  /** Calls in flight when each GetResourceLFTags arrived, in arrival order. */
  const arrivals: number[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = "AKIDEXAMPLE";
    process.env.AWS_SECRET_ACCESS_KEY = "secret";
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    const tables = Array.from({ length: TABLES }, (_, i) => ({
      Name: `t${String(i).padStart(3, "0")}`,
      DatabaseName: "sales",
      CatalogId: ACCOUNT,
      StorageDescriptor: { Columns: [{ Name: "id", Type: "int" }] },
    }));
    endpoint = await startFakeAwsEndpoint(async (operation) => {
      if (operation !== "GetResourceLFTags") {
        const answers: Record<string, unknown> = {
          GetDatabases: { DatabaseList: [{ Name: "sales", CatalogId: ACCOUNT }] },
          GetTables: { TableList: tables },
          ListLFTags: { LFTags: [] },
          ListPermissions: { PrincipalResourcePermissions: [] },
          ListLFTagExpressions: { LFTagExpressions: [] },
        };
        return { status: 200, body: answers[operation] ?? {} };
      }
      arrivals.push(inFlight);
      if (inFlight >= CAPACITY) return { status: 400, errorType: "ThrottlingException", body: { message: "Rate exceeded" } };
      inFlight++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight--;
      return { status: 200, body: {} };
    });
  });

  afterAll(async () => {
    process.env = savedEnv;
    await endpoint.close();
  });

  it("halves the calls in flight on ThrottlingException, rarely meets the throttle again, and the read completes", async () => {
    const limits = { lakeFormation: new AdaptiveConcurrency(8, 50), glue: new AdaptiveConcurrency(8, 50) };
    const source = createAwsSource(
      awsSourceConfig({ concurrency: 8, maxAttempts: 10, lakeFormationEndpoint: endpoint.url, glueEndpoint: endpoint.url }),
      { limits },
    );
    const { snapshot } = await source.read();
    expect(snapshot.databases[0]?.tables).toHaveLength(TABLES);
    expect(limits.lakeFormation.throttles).toBeGreaterThan(0);
    expect(limits.lakeFormation.decreases).toBeGreaterThanOrEqual(1);
    expect(limits.glue.throttles).toBe(0);
    // After the first throttled burst the endpoint was rarely pushed past its capacity (this
    // concurrency and the SDK's own adaptive send rate both back off): at a fixed 8 calls in flight
    // most arrivals would find it full.
    const throttled = arrivals.filter((n) => n >= CAPACITY).length;
    expect(throttled).toBe(limits.lakeFormation.throttles);
    expect(throttled).toBeLessThan(arrivals.length / 4);
  }, 30_000);
});
