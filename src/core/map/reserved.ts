/**
 * Grantees this service never grants to or revokes from, whatever the mapping says (issue 13
 * item 14): a grant there would reach every user, an all-powerful one, or an identity Redshift
 * manages itself and may rewrite behind the service's back.
 */
export type ReservedGrantee =
  /** PUBLIC: every current and future user. */
  | "public"
  /** A superuser: holds every privilege anyway, and revoking from it changes nothing. */
  | "superuser"
  /** rdsdb: the user Redshift runs its own maintenance as. */
  | "rdsdb"
  /** `__...`: names Redshift keeps for system objects. */
  | "system"
  /** `IAM:`, `IAMR:`, `ds:`: users and roles Redshift creates for IAM and directory identities. */
  | "managed"
  /** `sys:`: Redshift's system-defined roles (sys:superuser, sys:dba, ...; r_roles-default). */
  | "systemRole";

const DESCRIPTION: Record<ReservedGrantee, string> = {
  public: "PUBLIC, which is every user",
  superuser: "a superuser",
  rdsdb: "rdsdb, the user Redshift maintains itself as",
  system: "a name beginning with __, which Redshift keeps for itself",
  managed: "an identity Redshift manages itself (IAM:, IAMR: or ds:)",
  systemRole: "a system-defined role (sys:), which Redshift defines and grants itself",
};

const MANAGED_PREFIXES = ["iam:", "iamr:", "ds:"];

/** Why a grantee name is reserved, or null. Compared case-insensitively: PostgreSQL keeps case, Redshift folds it. */
export function reservedGrantee(name: string, superusers?: ReadonlySet<string>): ReservedGrantee | null {
  const lower = name.toLowerCase();
  if (lower === "public") return "public";
  if (lower === "rdsdb") return "rdsdb";
  if (lower.startsWith("__")) return "system";
  if (MANAGED_PREFIXES.some((prefix) => lower.startsWith(prefix))) return "managed";
  if (lower.startsWith("sys:")) return "systemRole";
  if (superusers !== undefined && (superusers.has(name) || superusers.has(lower))) return "superuser";
  return null;
}

export function describeReserved(reason: ReservedGrantee): string {
  return DESCRIPTION[reason];
}
