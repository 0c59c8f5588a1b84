/**
 * The state schema (DESIGN §4.3, migrations/): the grants this service applied, the run log, the tag
 * assignments last seen, the lease fence and the trust check. One concern per file in state/; this
 * module keeps the imports of the rest of the code stable.
 */
export { currentFence, fencedOut, fenceStatement } from "./state/fence.js";
export {
  DEFAULT_PAGE_ROWS,
  GRANT_SLOT_COLUMNS,
  readGrantSlotRows,
  readRecordedGrants,
  readRecordedRows,
  recordedColumnsOf,
  recordedGrantsOf,
} from "./state/grant-slots-read.js";
export { renderStateStatements, type StateRowChange } from "./state/grant-slots-write.js";
export {
  getRun,
  lastCatalogHash,
  listRuns,
  recordFailedRun,
  recordRunEnd,
  recordRunStart,
  type RecordedRunStatus,
  type RunEnd,
  type RunRecord,
  type RunStart,
} from "./state/runs.js";
export { DEFAULT_MAX_STATEMENT_BYTES, stateTableExists, timestampLiteral } from "./state/sql.js";
export { renderTagAssignmentStatements } from "./state/tag-assignments.js";
export { assertStateTrusted, FORBIDDEN_STATE_SCHEMAS, readTrustFacts, trustProblems, type TrustFacts } from "./state/trust.js";
