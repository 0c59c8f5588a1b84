import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { configSchema, type Config } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import { accessCommand, explainCommand } from "../../src/run/commands/access.js";
import { applyCommand } from "../../src/run/commands/apply.js";
import { planCommand } from "../../src/run/commands/plan.js";
import { checkSource } from "../../src/run/wiring.js";
import { startServer } from "../../src/server/serve.js";
import { type FakeAwsEndpoint, type FakeAwsReply, startFakeAwsEndpoint } from "../support/aws-endpoint.js";
import { startCatalogEndpoint } from "../support/aws-catalog-endpoint.js";
import { catalog, database, policy, table } from "../support/catalog-builders.js";
import { type LocalStsEndpoint, startLocalSts } from "../support/sts-endpoint.js";

/**
 * The Lake Formation administrator check at start-up (issue 10 item 2): plan, apply/reconcile and
 * serve on the aws source ask STS who they are (GetCallerIdentity, with the credentials the source
 * reads with) and Lake Formation who its administrators are (GetDataLakeSettings), through the real
 * SDK clients against local wire endpoints, and refuse before they open the target.
 */
const ACCOUNT = "210987654321";
const READER = `arn:aws:iam::${ACCOUNT}:role/readers/catalog-reader`;

let lf: FakeAwsEndpoint;
let sts: LocalStsEndpoint;
let settings: FakeAwsReply;
const bodies: unknown[] = [];

beforeEach(async () => {
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDTASKROLE");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret");
  vi.stubEnv("AWS_SESSION_TOKEN", "");
  bodies.length = 0;
  sts = await startLocalSts(ACCOUNT);
  lf = await startFakeAwsEndpoint((operation, body) => {
    bodies.push(body);
    return operation === "GetDataLakeSettings" ? settings : { status: 400, body: { message: `unexpected ${operation}` }, errorType: "InvalidInputException" };
  });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await lf.close();
  await sts.close();
});

const admins = (readOnly: readonly string[]): FakeAwsReply => ({
  status: 200,
  body: { DataLakeSettings: { ReadOnlyAdmins: readOnly.map((id) => ({ DataLakePrincipalIdentifier: id })), DataLakeAdmins: [] } },
});

function configWith(source: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    source: { kind: "aws", region: "eu-west-1", catalogId: ACCOUNT, lakeFormationEndpoint: lf.url, glueEndpoint: lf.url, stsEndpoint: sts.url, maxAttempts: 1, ...source },
    // A target that cannot be opened: a refused start-up never gets that far.
    target: { kind: "postgres", url: "postgres://nobody@127.0.0.1:1/none" },
    server: { port: 0, host: "127.0.0.1", reportToken: "report-token-0123456789" },
  });
}

const silent = createLogger("silent");

describe("the Lake Formation administrator check at start-up", () => {
  it("passes an assumed role (source.roleArn) listed by its role ARN with a path, asking as that role, for the catalog's account", async () => {
    settings = admins([READER]);
    await checkSource(configWith({ roleArn: READER, catalogId: `${ACCOUNT}:federated` }), silent);
    expect(sts.requests.map((r) => r.operation)).toEqual(["AssumeRole", "GetCallerIdentity"]);
    // Who it asked as: the assumed session, not the task role.
    expect(sts.requests[1]?.accessKeyId).toMatch(/^ASIAASSUMED/);
    expect(lf.calls).toEqual(["GetDataLakeSettings"]);
    expect(lf.signers[0]?.accessKeyId).toMatch(/^ASIAASSUMED/);
    expect(bodies).toEqual([{ CatalogId: ACCOUNT }]);
  });

  it("refuses plan, reconcile, serve, access and explain with SOURCE_PERMISSION when the role is not an administrator, before opening the target", async () => {
    settings = admins([`arn:aws:iam::${ACCOUNT}:role/someone-else`]);
    sts.callerArn = `arn:aws:sts::${ACCOUNT}:assumed-role/lf-redshift-sync/ecs-task`;
    const refused = { code: "SOURCE_PERMISSION", message: expect.stringContaining("role lf-redshift-sync (account 210987654321) is not a Lake Formation read-only administrator") };
    await expect(planCommand(configWith(), "json", false)).rejects.toMatchObject(refused);
    await expect(applyCommand(configWith(), { yes: true, force: false, command: "reconcile", logger: silent })).rejects.toMatchObject(refused);
    await expect(startServer(configWith(), silent)).rejects.toMatchObject(refused);
    await expect(accessCommand(configWith(), "json", {})).rejects.toMatchObject(refused);
    await expect(explainCommand(configWith(), "json", { grantee: "analyst", table: "sales.orders" })).rejects.toMatchObject(refused);
    expect(lf.calls).toEqual(Array.from({ length: 5 }, () => "GetDataLakeSettings"));
  });

  it("GetDataLakeSettings denied: refused by default (SOURCE_INCOMPLETE), a warning with adminCheck: warn, nothing asked with off", async () => {
    settings = { status: 403, body: { message: "not authorized to perform lakeformation:GetDataLakeSettings" }, errorType: "AccessDeniedException" };
    await expect(checkSource(configWith(), silent)).rejects.toMatchObject({ code: "SOURCE_INCOMPLETE", message: expect.stringContaining("lakeformation:GetDataLakeSettings") });
    const warnings: string[] = [];
    const logger = { ...silent, info: () => undefined, warn: (_: unknown, message: string) => warnings.push(message) } as unknown as typeof silent;
    await checkSource(configWith({ adminCheck: "warn" }), logger);
    expect(warnings).toEqual([expect.stringContaining("could not check that the role is a Lake Formation read-only administrator")]);
    // warn never lets a role through that is known not to be an administrator.
    settings = admins([]);
    await expect(checkSource(configWith({ adminCheck: "warn" }), logger)).rejects.toMatchObject({ code: "SOURCE_PERMISSION" });
    const calls = lf.calls.length;
    await checkSource(configWith({ adminCheck: "off" }), silent);
    expect(lf.calls).toHaveLength(calls);
  });

  it("lets a listed role through to the whole plan: the catalog is read from the local Lake Formation + Glue endpoint", async () => {
    const snapshot = catalog({ databases: [database("sales", { access: "public" }, [table("orders", {}, ["id"])])], policies: [policy(`arn:aws:iam::${ACCOUNT}:role/analyst`, "TABLE", { access: ["public"] }, ["SELECT"])] });
    const endpoint = await startCatalogEndpoint({ ...snapshot, catalogId: ACCOUNT }, { readOnlyAdmins: [READER] });
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    try {
      const config = configSchema.parse({
        source: { kind: "aws", region: "eu-west-1", catalogId: ACCOUNT, lakeFormationEndpoint: endpoint.url, glueEndpoint: endpoint.url, stsEndpoint: sts.url, roleArn: READER, maxAttempts: 1 },
        target: { kind: "pglite" },
      });
      expect(await planCommand(config, "json", false)).toBe(0);
    } finally {
      write.mockRestore();
      await endpoint.close();
    }
    expect(endpoint.counts.get("ListPermissions")).toBeGreaterThan(0);
    // The schema and the grantee do not exist in the empty target: USAGE and SELECT are pending.
    const pending = (JSON.parse(out.join("")) as { pending: { grantee: { name: string }; privilege: string }[] }).pending;
    expect(pending.map((p) => `${p.privilege} ${p.grantee.name}`).sort()).toEqual(["SELECT analyst", "USAGE analyst"]);
  });

  it("does nothing for the file source", async () => {
    await checkSource(configSchema.parse({ source: { kind: "file", path: "x.yaml" }, target: { kind: "pglite" } }), silent);
    expect(sts.requests).toEqual([]);
  });
});
