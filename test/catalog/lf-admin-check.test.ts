import { LakeFormationClient } from "@aws-sdk/client-lakeformation";
import { afterEach, describe, expect, it } from "vitest";
import { callerPrincipal, checkLakeFormationAdmin } from "../../src/catalog/lf-admin-check.js";
import { type FakeAwsEndpoint, type FakeAwsReply, startFakeAwsEndpoint } from "../support/aws-endpoint.js";

const ROLE = "arn:aws:iam::123456789012:role/lf-redshift-sync";
const CALLER = "arn:aws:sts::123456789012:assumed-role/lf-redshift-sync/ecs-task-1234";

let endpoint: FakeAwsEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

/** A Lake Formation client on the local wire endpoint answering GetDataLakeSettings with `reply`. */
async function clientAnswering(reply: FakeAwsReply): Promise<{ client: LakeFormationClient; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  endpoint = await startFakeAwsEndpoint((operation, body) => {
    bodies.push(body);
    return operation === "GetDataLakeSettings" ? reply : { status: 400, body: { message: `unexpected ${operation}` }, errorType: "InvalidInputException" };
  });
  const client = new LakeFormationClient({ region: "eu-west-1", endpoint: endpoint.url, maxAttempts: 1, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } });
  return { client, bodies };
}

const settings = (readOnly: string[], admins: string[] = []): FakeAwsReply => ({
  status: 200,
  body: {
    DataLakeSettings: {
      ReadOnlyAdmins: readOnly.map((id) => ({ DataLakePrincipalIdentifier: id })),
      DataLakeAdmins: admins.map((id) => ({ DataLakePrincipalIdentifier: id })),
    },
  },
});

describe("callerPrincipal", () => {
  it("reads account and role name from an assumed-role ARN, and from IAM role and user ARNs with a path", () => {
    expect(callerPrincipal(CALLER)).toEqual({ account: "123456789012", kind: "role", name: "lf-redshift-sync" });
    expect(callerPrincipal("arn:aws:iam::123456789012:role/service/lf-redshift-sync")).toEqual({ account: "123456789012", kind: "role", name: "lf-redshift-sync" });
    expect(callerPrincipal("arn:aws:iam::123456789012:user/alice")).toEqual({ account: "123456789012", kind: "user", name: "alice" });
    expect(() => callerPrincipal("arn:aws:identitystore:::user/abc")).toThrow(/neither an IAM role/);
  });
});

describe("checkLakeFormationAdmin", () => {
  it("accepts a role listed as read-only administrator, even with a path, and asks the configured catalog", async () => {
    const { client, bodies } = await clientAnswering(settings(["arn:aws:iam::123456789012:role/other", "arn:aws:iam::123456789012:role/apps/lf-redshift-sync"]));
    await expect(checkLakeFormationAdmin(client, CALLER, "123456789012")).resolves.toEqual({
      kind: "read-only administrator",
      principal: "arn:aws:iam::123456789012:role/apps/lf-redshift-sync",
    });
    expect(endpoint?.calls).toEqual(["GetDataLakeSettings"]);
    expect(bodies).toEqual([{ CatalogId: "123456789012" }]);
  });

  it("accepts a full administrator", async () => {
    const { client } = await clientAnswering(settings([], [ROLE]));
    await expect(checkLakeFormationAdmin(client, ROLE)).resolves.toMatchObject({ kind: "administrator" });
  });

  it("refuses a role that is not an administrator, or only one of the same name in another account, naming the fix", async () => {
    const { client } = await clientAnswering(settings(["arn:aws:iam::210987654321:role/lf-redshift-sync"], ["arn:aws:iam::123456789012:user/lf-redshift-sync"]));
    await expect(checkLakeFormationAdmin(client, CALLER)).rejects.toMatchObject({
      code: "SOURCE_PERMISSION",
      message: expect.stringMatching(/role lf-redshift-sync \(account 123456789012\) is not a Lake Formation read-only administrator.*ReadOnlyAdmins/),
    });
  });

  it("refuses when the settings cannot be read, keeping AWS's error as the cause", async () => {
    const { client } = await clientAnswering({ status: 400, body: { message: "not authorized to GetDataLakeSettings" }, errorType: "AccessDeniedException" });
    const failure = await checkLakeFormationAdmin(client, CALLER).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "SOURCE_INCOMPLETE", message: expect.stringContaining("lakeformation:GetDataLakeSettings") });
    expect((failure as Error).cause).toMatchObject({ name: "AccessDeniedException" });
  });
});
