/** Policies -> entitlements (DESIGN §2). The parts live in ./resolve/; this module keeps imports stable. */
export { columnsInSets, tableEntitlements, LF_DATABASE_PERMISSIONS, LF_TABLE_PERMISSIONS } from "./resolve/entitlements.js";
export type {
  DatabaseEntitlement,
  Entitlements,
  LfDatabasePermission,
  LfTablePermission,
  PrincipalTableAccess,
  ResolvedTable,
  SignatureGroup,
  TableEntitlement,
} from "./resolve/entitlements.js";
export { IntSets } from "./resolve/int-sets.js";
export { policyOnGroup, type GroupMatch, type PolicyGroupAccess } from "./resolve/lf-rules.js";
export { policyExpression, policyRef } from "./resolve/policy-refs.js";
export { resolvePolicies } from "./resolve/resolve-policies.js";
