import { GetDataLakeSettingsCommand, LakeFormationClient } from "@aws-sdk/client-lakeformation";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import type { AwsSourceConfig } from "../config/schema.js";
import { describeError, isSyncError, SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import { createStsClient, sourceCredentials } from "./aws/sts.js";

/**
 * Lake Formation filters every catalog read by the caller's permissions and reports no error, so a
 * role that is not an administrator sees a partial catalog and the planner would revoke grants Lake
 * Formation still allows (docs/aws.md section 2). GetDataLakeSettings lists the administrators:
 * this check refuses to go on unless the caller is one of them, read-only or full.
 */

export interface AdminStatus {
  readonly kind: "read-only administrator" | "administrator";
  /** The settings entry that matched. */
  readonly principal: string;
}

/**
 * The IAM role or user ARN of a caller ARN as STS GetCallerIdentity returns it:
 * `arn:aws:sts::123456789012:assumed-role/NAME/session` -> account and role name (the role's path
 * is not in an assumed-role ARN, so roles are compared by account and name).
 */
export function callerPrincipal(callerArn: string): { readonly account: string; readonly kind: "role" | "user"; readonly name: string } {
  const assumed = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(callerArn);
  if (assumed !== null) return { account: assumed[1]!, kind: "role", name: assumed[2]! };
  const iam = /^arn:aws[a-z-]*:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(callerArn);
  if (iam !== null) return { account: iam[1]!, kind: iam[2] as "role" | "user", name: iam[3]! };
  throw new SyncError("CONFIG_INVALID", `caller ARN ${callerArn} is neither an IAM role, an assumed role nor an IAM user`);
}

function matches(caller: ReturnType<typeof callerPrincipal>, identifier: string): boolean {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(identifier);
  return m !== null && m[1] === caller.account && m[2] === caller.kind && m[3] === caller.name;
}

/**
 * Resolves when the caller is a (read-only) data lake administrator; SOURCE_PERMISSION when it is
 * not; SOURCE_INCOMPLETE when the settings cannot be read (the check cannot be done).
 */
export async function checkLakeFormationAdmin(client: LakeFormationClient, callerArn: string, catalogId?: string): Promise<AdminStatus> {
  const caller = callerPrincipal(callerArn);
  let settings;
  try {
    settings = (await client.send(new GetDataLakeSettingsCommand(catalogId === undefined ? {} : { CatalogId: catalogId }))).DataLakeSettings;
  } catch (error) {
    throw new SyncError("SOURCE_INCOMPLETE", "cannot read the Lake Formation settings (lakeformation:GetDataLakeSettings) to check that the role is a read-only administrator", {
      cause: error,
    });
  }
  const lists = [
    ["read-only administrator", settings?.ReadOnlyAdmins ?? []],
    ["administrator", settings?.DataLakeAdmins ?? []],
  ] as const;
  for (const [kind, principals] of lists) {
    const found = principals.find((p) => p.DataLakePrincipalIdentifier !== undefined && matches(caller, p.DataLakePrincipalIdentifier));
    if (found !== undefined) return { kind, principal: found.DataLakePrincipalIdentifier! };
  }
  throw new SyncError(
    "SOURCE_PERMISSION",
    `${caller.kind} ${caller.name} (account ${caller.account}) is not a Lake Formation read-only administrator: it would see a partial catalog and plan wrong revokes; add it to ReadOnlyAdmins (docs/aws.md section 2)`,
  );
}

/** The ARN of whoever signs with the client's credentials; STS answers it for every identity (no IAM permission needed, none can deny it). */
export async function callerArn(sts: STSClient): Promise<string> {
  let arn: string | undefined;
  try {
    arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
  } catch (cause) {
    throw new SyncError("SOURCE_INCOMPLETE", `sts:GetCallerIdentity failed, so the Lake Formation administrator check cannot be done: ${describeError(cause)}`, { cause });
  }
  if (arn === undefined) throw new SyncError("SOURCE_INCOMPLETE", "sts:GetCallerIdentity returned no ARN, so the Lake Formation administrator check cannot be done");
  return arn;
}

export interface AdminCheckClients {
  readonly lakeFormation: LakeFormationClient;
  readonly sts: STSClient;
}

/**
 * At start-up of plan, apply/reconcile and serve on the aws source (source.adminCheck, README
 * "Security model"): `require` (the default) refuses a role that is not an administrator and a
 * check that cannot be done (GetDataLakeSettings denied, STS unreachable), because a partial
 * catalog plans wrong revokes; `warn` goes on after a warning only in the second case.
 */
export async function checkSourceAdmin(
  clients: AdminCheckClients,
  options: { readonly catalogId?: string | undefined; readonly mode: "require" | "warn"; readonly log: Pick<Logger, "info" | "warn"> },
): Promise<AdminStatus | null> {
  try {
    const arn = await callerArn(clients.sts);
    // Administrators are set per account: a multi-level catalog id (`123456789012:federated`) names its account first.
    const status = await checkLakeFormationAdmin(clients.lakeFormation, arn, options.catalogId?.split(":")[0]);
    options.log.info({ caller: arn, admin: status.principal }, `the catalog is read as a Lake Formation ${status.kind}`);
    return status;
  } catch (error) {
    if (options.mode !== "warn" || !isSyncError(error) || error.code !== "SOURCE_INCOMPLETE") throw error;
    options.log.warn({ err: error }, `could not check that the role is a Lake Formation read-only administrator (source.adminCheck: warn, going on): ${error.message}`);
    return null;
  }
}

/** checkSourceAdmin with clients built from the source config, with the credentials the source reads with (source.roleArn). */
export async function checkAwsSourceAdmin(source: AwsSourceConfig, log: Pick<Logger, "info" | "warn">): Promise<AdminStatus | null> {
  if (source.adminCheck === "off") return null;
  const credentials = sourceCredentials(source);
  const lakeFormation = new LakeFormationClient({
    ...(source.region === undefined ? {} : { region: source.region }),
    ...(source.lakeFormationEndpoint === undefined ? {} : { endpoint: source.lakeFormationEndpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    maxAttempts: source.maxAttempts,
  });
  const sts = createStsClient(source, credentials);
  try {
    return await checkSourceAdmin({ lakeFormation, sts }, { catalogId: source.catalogId, mode: source.adminCheck, log });
  } finally {
    lakeFormation.destroy();
    sts.destroy();
  }
}
