/**
 * Every error the service raises on purpose carries a stable `code`. The CLI maps the code to an
 * exit code and the server to an HTTP status through this one registry; the README's table of
 * exit codes is checked against it by test/errors.test.ts.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: { exit: 1, http: 500, summary: "the config file is missing or invalid" },
  SNAPSHOT_INVALID: { exit: 1, http: 500, summary: "the snapshot file is invalid" },
  SOURCE_INCOMPLETE: { exit: 4, http: 503, summary: "the catalog source could not be read completely; nothing was applied" },
  SOURCE_PERMISSION: { exit: 4, http: 503, summary: "the role reading the catalog is not a Lake Formation (read-only) administrator: it would see a partial catalog; nothing was read or applied" },
  NAME_INVALID: { exit: 1, http: 500, summary: "a catalog name cannot be mapped to a Redshift identifier" },
  TARGET_FAILED: { exit: 1, http: 502, summary: "a statement failed on the target database" },
  TARGET_PERMISSION: { exit: 1, http: 500, summary: "the database user lacks a privilege the service needs" },
  MIGRATION_FAILED: { exit: 1, http: 500, summary: "a state-schema migration failed or was changed after it ran" },
  STATE_UNTRUSTED: { exit: 1, http: 500, summary: "someone else owns or may write the state schema; nothing was applied" },
  SAFETY_REFUSED: { exit: 2, http: 409, summary: "the plan was refused by a safety rule (use --force to override)" },
  LEASE_HELD: { exit: 3, http: 409, summary: "another run holds the lease for this target" },
  LEASE_LOST: { exit: 1, http: 500, summary: "the run lost its lease and stopped before its next batch" },
  UNAUTHORIZED: { exit: 1, http: 401, summary: "missing or wrong credentials" },
  INTERNAL: { exit: 1, http: 500, summary: "a failure inside the service itself (a bug or a limit of the runtime), not of the source or the target" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SyncError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SyncError";
    this.code = code;
  }
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
}

export function isSyncError(error: unknown): error is SyncError {
  return error instanceof SyncError;
}

/** Exit code for anything thrown out of a command: SyncErrors by registry, anything else 1. */
export function exitCodeOf(error: unknown): number {
  return isSyncError(error) ? error.exitCode : 1;
}

/** A message that keeps the chain of causes readable on one line. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join(": caused by: ");
}
