import { GetDataLakeSettingsCommand, type LakeFormationClient } from "@aws-sdk/client-lakeformation";
import { SyncError } from "../errors.js";

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

/** Resolves when the caller is a (read-only) data lake administrator; SOURCE_INCOMPLETE otherwise. */
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
    "SOURCE_INCOMPLETE",
    `${caller.kind} ${caller.name} (account ${caller.account}) is not a Lake Formation read-only administrator: it would see a partial catalog and plan wrong revokes; add it to ReadOnlyAdmins (docs/aws.md section 2)`,
  );
}
