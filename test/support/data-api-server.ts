/**
 * The local Redshift Data API endpoint. It lives in data-api/: protocol.ts (JSON 1.1 wire),
 * operations.ts (the six operations), runner.ts (statement lifecycle), results.ts (paging and
 * limits), backends.ts (PGlite or a server), faults.ts (fault injection), redshift/ (the Redshift
 * mode: `startLocalDataApi({ mode: "redshift" })`).
 */
export { FaultController } from "./data-api/faults.js";
export type { RedshiftOptions } from "./data-api/redshift/mode.js";
export { startLocalDataApi, type LocalDataApi, type LocalDataApiOptions, type StatementView } from "./data-api/server.js";
export type { DataApiMetrics } from "./data-api/traffic.js";
