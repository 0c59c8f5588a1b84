/**
 * The documented ways to say who runs the SQL (aws-facts §5.2, ExecuteStatement API reference,
 * https://docs.aws.amazon.com/redshift/latest/mgmt/data-api-access.html):
 *   Secrets Manager        SecretArn + Database (+ ClusterIdentifier or WorkgroupName)
 *   temporary credentials  ClusterIdentifier + Database + DbUser
 *   IAM identity           ClusterIdentifier + Database, or WorkgroupName + Database
 * Anything else is a ValidationException.
 */
import { connectionFields, type Connection } from "../operations.js";
import { validation } from "../protocol.js";
import type { RedshiftOptions } from "./mode.js";

export function connectDocumented(options: RedshiftOptions): (input: Record<string, unknown>) => Connection {
  return (input) => {
    const has = (key: string): boolean => typeof input[key] === "string";
    const fields = connectionFields(input);
    if (has("ClusterIdentifier") && has("WorkgroupName")) throw validation("Specify either ClusterIdentifier or WorkgroupName, not both");
    if (has("SecretArn")) {
      if (has("DbUser")) throw validation("DbUser can't be used with SecretArn");
      // "When you are connecting to a cluster, you also supply the database name ... to a serverless workgroup, you also supply the database name."
      if (!has("Database")) throw validation("Database is required with SecretArn");
      return { fields, user: secretUser(options, String(input.SecretArn)) };
    }
    if (!has("ClusterIdentifier") && !has("WorkgroupName")) throw validation("Either ClusterIdentifier or WorkgroupName must be provided");
    if (!has("Database")) throw validation("Database is required with temporary credentials");
    if (has("DbUser")) {
      if (has("WorkgroupName")) throw validation("DbUser is not supported for a serverless workgroup: use the IAM identity or SecretArn");
      return { fields, user: String(input.DbUser) };
    }
    return { fields, user: options.iamUser ?? null };
  };
}

function secretUser(options: RedshiftOptions, arn: string): string | null {
  if (options.secrets === undefined) return null;
  const user = options.secrets[arn];
  if (user === undefined) throw validation(`Secrets Manager can't find the specified secret ${arn}`);
  return user;
}
