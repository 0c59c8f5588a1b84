import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { SyncError } from "../../errors.js";

/**
 * The one place that builds STS clients: source.roleArn's AssumeRole here, and the caller lookup
 * of the Lake Formation admin check (GetCallerIdentity), which must ask with the same credentials
 * the source reads with.
 */
export interface StsSettings {
  readonly region?: string | undefined;
  /** Endpoint override (tests, VPC endpoint `com.amazonaws.REGION.sts`). */
  readonly stsEndpoint?: string | undefined;
  readonly maxAttempts?: number | undefined;
}

/**
 * An STS client in the source's region (regional endpoint: the SDK's default, so a VPC endpoint
 * works); `credentials` omitted = the default chain (the ECS task role).
 */
export function createStsClient(settings: StsSettings, credentials?: AwsCredentialIdentityProvider): STSClient {
  return new STSClient({
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(settings.stsEndpoint === undefined ? {} : { endpoint: settings.stsEndpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(settings.maxAttempts === undefined ? {} : { maxAttempts: settings.maxAttempts }),
  });
}

export interface AssumeRoleSettings {
  readonly roleArn: string;
  readonly externalId?: string | undefined;
  readonly sessionName: string;
  /** Requested lifetime; STS caps it at the role's MaxSessionDuration. */
  readonly durationSeconds?: number | undefined;
  /** Credentials are renewed this long before they expire (a long full read outlives one session). */
  readonly refreshBeforeMs?: number | undefined;
}

const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * A credential provider for the LF and Glue clients: AssumeRole once, reuse the session until it is
 * `refreshBeforeMs` from expiry, then assume again. Concurrent callers share one AssumeRole call.
 * A failure is SOURCE_INCOMPLETE: without the role the catalog cannot be read, so nothing applies.
 */
export function assumeRoleCredentials(sts: STSClient, settings: AssumeRoleSettings, now: () => number = Date.now): AwsCredentialIdentityProvider {
  const refreshBeforeMs = settings.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const isFresh = (c: AwsCredentialIdentity | undefined): c is AwsCredentialIdentity =>
    c !== undefined && (c.expiration === undefined || c.expiration.getTime() - now() > refreshBeforeMs);
  return () => {
    if (isFresh(current)) return Promise.resolve(current);
    pending ??= assumeRole(sts, settings).then(
      (credentials) => {
        current = credentials;
        pending = undefined;
        return credentials;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}

async function assumeRole(sts: STSClient, settings: AssumeRoleSettings): Promise<AwsCredentialIdentity> {
  let response;
  try {
    response = await sts.send(
      new AssumeRoleCommand({
        RoleArn: settings.roleArn,
        RoleSessionName: settings.sessionName,
        ...(settings.externalId === undefined ? {} : { ExternalId: settings.externalId }),
        ...(settings.durationSeconds === undefined ? {} : { DurationSeconds: settings.durationSeconds }),
      }),
    );
  } catch (cause) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new SyncError("SOURCE_INCOMPLETE", `sts:AssumeRole ${settings.roleArn} failed: ${reason}`, { cause });
  }
  const c = response.Credentials;
  if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined || c.SessionToken === undefined) {
    throw new SyncError("SOURCE_INCOMPLETE", `sts:AssumeRole ${settings.roleArn} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    ...(c.Expiration === undefined ? {} : { expiration: c.Expiration }),
  };
}

/** What the source config says about credentials (a subset of AwsSourceConfig, to keep this module free of the schema). */
export interface SourceCredentialSettings extends StsSettings {
  readonly roleArn?: string | undefined;
  readonly externalId?: string | undefined;
  readonly sessionName: string;
}

/**
 * The credentials the catalog is read with: the assumed role when `roleArn` is set (a catalog in
 * another account), else undefined = the SDK's default chain.
 */
export function sourceCredentials(settings: SourceCredentialSettings): AwsCredentialIdentityProvider | undefined {
  if (settings.roleArn === undefined) return undefined;
  return assumeRoleCredentials(createStsClient(settings), {
    roleArn: settings.roleArn,
    externalId: settings.externalId,
    sessionName: settings.sessionName,
  });
}
