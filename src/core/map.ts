/** Entitlements -> desired grants (DESIGN §3). The parts live in ./map/; this module keeps imports stable. */
export { accessGrants, DEFAULT_PRIVILEGES, type GroupGrants, type PrivilegeMap } from "./map/access-grants.js";
export { mapEntitlements, type DesiredState } from "./map/map-entitlements.js";
export { foldIdentifier, foldName, globMatcher, MAX_IDENTIFIER_BYTES, schemaMapper } from "./map/names.js";
export { granteeOfPrincipal, principalMapper, type MappedPrincipal } from "./map/principals.js";
export { describeReserved, reservedGrantee, type ReservedGrantee } from "./map/reserved.js";
