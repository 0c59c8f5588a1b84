/**
 * source.roleArn: the real STS, Lake Formation and Glue clients against local endpoints. The task's
 * own keys (env) sign only the AssumeRole call; every catalog call signs with the assumed session.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAwsSource } from "../../src/catalog/aws-source.js";
import { assumeRoleCredentials, createStsClient } from "../../src/catalog/aws/sts.js";
import { awsSourceSchema } from "../../src/config/schema.js";
import { SyncError } from "../../src/errors.js";
import { awsSourceConfig } from "../support/aws-catalog.js";
import { startFakeAwsEndpoint, type FakeAwsEndpoint } from "../support/aws-endpoint.js";
import { startLocalSts, type LocalStsEndpoint } from "../support/sts-endpoint.js";

const ROLE = "arn:aws:iam::210987654321:role/catalog-reader";
const savedEnv = { ...process.env };
let sts: LocalStsEndpoint;
let aws: FakeAwsEndpoint;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = "AKIATASKROLE";
  process.env.AWS_SECRET_ACCESS_KEY = "task-secret";
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  sts = await startLocalSts();
  const empty: Record<string, unknown> = {
    GetDatabases: { DatabaseList: [] },
    ListLFTags: { LFTags: [] },
    ListPermissions: { PrincipalResourcePermissions: [] },
    ListLFTagExpressions: { LFTagExpressions: [] },
  };
  aws = await startFakeAwsEndpoint((operation) => ({ status: 200, body: empty[operation] ?? {} }));
});

afterEach(() => {
  sts.requests.length = 0;
  sts.sessionSeconds = 3600;
  sts.denyAssumeRole = undefined;
  aws.calls.length = 0;
  aws.signers.length = 0;
});

afterAll(async () => {
  process.env = savedEnv;
  await sts.close();
  await aws.close();
});

function crossAccountSource(extra: Record<string, unknown> = {}) {
  const config = awsSourceSchema.parse({
    kind: "aws",
    region: "eu-west-1",
    catalogId: "210987654321",
    roleArn: ROLE,
    maxAttempts: 1,
    lakeFormationEndpoint: aws.url,
    glueEndpoint: aws.url,
    stsEndpoint: sts.url,
    ...extra,
  });
  return createAwsSource(config);
}

describe("aws source with source.roleArn (real SDK clients, local STS, LF and Glue endpoints)", () => {
  it("assumes the role with the external id and session name, signed by the task, then signs every catalog call with the session", async () => {
    await crossAccountSource({ externalId: "lfsync-ext-42", sessionName: "lfsync-prod" }).read();
    expect(sts.requests.map((r) => r.operation)).toEqual(["AssumeRole"]);
    const [assume] = sts.requests;
    expect(assume?.params).toMatchObject({ RoleArn: ROLE, ExternalId: "lfsync-ext-42", RoleSessionName: "lfsync-prod" });
    expect(assume?.accessKeyId).toBe("AKIATASKROLE");
    expect(aws.calls).toEqual(expect.arrayContaining(["GetDatabases", "ListLFTags", "ListPermissions"]));
    for (const signer of aws.signers) expect(signer).toMatchObject({ accessKeyId: "ASIAASSUMED1", sessionToken: "session-1" });
  });

  it("sends no ExternalId when none is configured, and reuses a session that is far from expiry", async () => {
    const source = crossAccountSource();
    await source.read();
    await source.read();
    expect(sts.requests).toHaveLength(1);
    expect(sts.requests[0]?.params.ExternalId).toBeUndefined();
    expect(sts.requests[0]?.params.RoleSessionName).toBe("lf-redshift-sync");
    const keys = new Set(aws.signers.map((s) => s.accessKeyId));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^ASIAASSUMED\d+$/);
  });

  it("assumes the role again when the session is about to expire", async () => {
    sts.sessionSeconds = 120; // inside the 5-minute refresh window at once
    const source = crossAccountSource();
    await source.read();
    const firstKeys = new Set(aws.signers.map((s) => s.accessKeyId));
    aws.signers.length = 0;
    await source.read();
    expect(sts.requests.length).toBeGreaterThanOrEqual(2);
    const secondKeys = new Set(aws.signers.map((s) => s.accessKeyId));
    expect([...secondKeys].some((k) => !firstKeys.has(k))).toBe(true);
  });

  it("a refused AssumeRole fails the read as SOURCE_INCOMPLETE and sends no catalog call", async () => {
    sts.denyAssumeRole = "not authorized to perform sts:AssumeRole";
    const error = await crossAccountSource().read().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe("SOURCE_INCOMPLETE");
    expect((error as SyncError).message).toMatch(/sts:AssumeRole .*catalog-reader failed: AccessDenied/);
    expect(aws.calls).toEqual([]);
  });
});

describe("assumeRoleCredentials", () => {
  it("renews refreshBeforeMs before expiry, not earlier, and concurrent callers share one AssumeRole", async () => {
    let clock = Date.now();
    const provider = assumeRoleCredentials(
      createStsClient({ region: "eu-west-1", stsEndpoint: sts.url, maxAttempts: 1 }),
      { roleArn: ROLE, sessionName: "s1", refreshBeforeMs: 60_000 },
      () => clock,
    );
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a).toBe(b);
    expect(sts.requests).toHaveLength(1);
    clock += 3600_000 - 120_000; // two minutes left: still fresh
    expect((await provider()).accessKeyId).toBe(a.accessKeyId);
    clock += 90_000; // 30 s left: inside the window
    const renewed = await provider();
    expect(renewed.accessKeyId).not.toBe(a.accessKeyId);
    expect(sts.requests).toHaveLength(2);
  });
});

describe("source config: roleArn, externalId, sessionName", () => {
  const base = { kind: "aws", region: "eu-west-1" } as const;
  it.each([
    [{ roleArn: "arn:aws:iam::210987654321:user/bob" }, "roleArn"],
    [{ roleArn: "arn:aws:iam::2109876543:role/x" }, "roleArn"],
    [{ externalId: "abc" }, "externalId"],
    [{ roleArn: ROLE, externalId: "a" }, "externalId"],
    [{ roleArn: ROLE, sessionName: "has space" }, "sessionName"],
  ])("rejects %j", (extra, field) => {
    const result = awsSourceSchema.safeParse({ ...base, ...extra });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(field);
  });

  it("accepts a role in another partition with a path, and defaults the session name", () => {
    const parsed = awsSourceSchema.parse({ ...base, roleArn: "arn:aws-cn:iam::210987654321:role/team/reader", externalId: "ext-1" });
    expect(parsed.sessionName).toBe("lf-redshift-sync");
    expect(awsSourceConfig().roleArn).toBeUndefined();
  });
});
