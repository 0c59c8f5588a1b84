import { createHash } from "node:crypto";
import type { Dialect } from "../core/grants.js";
import { iterateBatches, MAX_BATCH_BYTES, MAX_BATCH_STATEMENTS, type RenderOptions } from "../core/render.js";
import { byteLength } from "../core/sql.js";
import type { Plan } from "../core/plan.js";
import { SyncError } from "../errors.js";
import type { Lease } from "../lock/lock.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { fencedOut, fenceStatement, renderStateStatements } from "../warehouse/state-store.js";

export type BatchOutcome = "applied" | "failed" | "notRun";

/** Like kysely's MigrationResultSet: one outcome per batch and a single error, never a bare throw. */
export interface ApplyResult {
  readonly batches: readonly BatchOutcome[];
  readonly appliedChanges: { readonly grants: number; readonly revokes: number };
  readonly error?: SyncError;
}

export interface ApplyOptions {
  readonly stateSchema: string;
  readonly runId: string;
  readonly at: Date;
  readonly lease?: Lease;
  /**
   * Check the lease's fencing token inside each batch's transaction (state/fence.ts), so that a
   * stale holder's batch fails on the target. Off for the `memory` lock, whose tokens restart with
   * the process.
   */
  readonly fence?: boolean;
  /** After each committed batch: changes applied so far out of the plan's total. */
  readonly onBatch?: (appliedChanges: number, totalChanges: number) => void;
  /** Stops before the next batch when it returns true (graceful shutdown). */
  readonly shouldStop?: () => boolean;
}

/** The fencing statement each batch starts with, when fencing applies. */
function fenceOf(options: ApplyOptions): string | null {
  return options.fence === true && options.lease !== undefined ? fenceStatement(options.stateSchema, options.lease.fencingToken) : null;
}

/**
 * How apply renders a plan for a dialect: a fenced batch starts with the fence's statement, so the
 * rest gets one statement and the fence's bytes less (the Data API's 40 statements and, as render.ts
 * bounds a call, 100 KB: aws-facts §5.3, trap 15).
 */
export function renderOptions(dialect: Dialect, options: ApplyOptions): RenderOptions {
  const fence = fenceOf(options);
  return {
    dialect,
    ...(fence === null ? {} : { maxBatchStatements: MAX_BATCH_STATEMENTS - 1, maxBatchBytes: MAX_BATCH_BYTES[dialect] - byteLength(fence) }),
    stateStatements: (records) => renderStateStatements(dialect, options.stateSchema, records, options.runId),
  };
}

/**
 * Executes a plan; decides nothing. Each batch's GRANT/REVOKE statements and its state rows commit
 * in one transaction; the first failed batch stops the run, so what is recorded is always what was
 * applied. Rerunning converges (a new plan sees what committed).
 */
export async function applyPlan(executor: SqlExecutor, plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.safety.refused) {
    return { batches: [], appliedChanges: { grants: 0, revokes: 0 }, error: new SyncError("SAFETY_REFUSED", plan.safety.reasons.join("; ")) };
  }
  const batches = iterateBatches(plan, renderOptions(executor.dialect, options));
  const outcomes: BatchOutcome[] = [];
  let grants = 0;
  let revokes = 0;
  const fence = fenceOf(options);
  let index = 0;
  for (const batch of batches) {
    try {
      if (options.shouldStop?.()) throw new SyncError("TARGET_FAILED", `stopped before batch ${index + 1} (shutdown)`);
      options.lease?.assertHeld();
      await executor.transaction(fence === null ? batch.statements : [fence, ...batch.statements], { token: batchToken(options.runId, index) });
    } catch (cause) {
      outcomes.push("failed");
      // The rest is rendered only to be counted; nothing of it runs.
      for (const _ of batches) outcomes.push("notRun");
      const error = await batchError(executor, options, index, cause);
      return { batches: outcomes, appliedChanges: { grants, revokes }, error };
    }
    outcomes.push("applied");
    index++;
    for (const c of batch.changes) {
      if (c.op === "grant") grants++;
      else revokes++;
    }
    options.onBatch?.(grants + revokes, plan.summary.grants + plan.summary.revokes);
  }
  return { batches: outcomes, appliedChanges: { grants, revokes } };
}

/** What a failed batch reports: LEASE_LOST when the fence refused it, else the failure itself. */
async function batchError(executor: SqlExecutor, options: ApplyOptions, index: number, cause: unknown): Promise<SyncError> {
  if (cause instanceof SyncError && cause.code !== "TARGET_FAILED") return cause;
  if (fenceOf(options) !== null && options.lease !== undefined) {
    const fenced = await fencedOut(executor, options.stateSchema, options.lease.fencingToken);
    if (fenced !== null) return fenced;
  }
  return cause instanceof SyncError ? cause : new SyncError("TARGET_FAILED", `batch ${index + 1} failed`, { cause });
}

/** Deterministic per run and batch: a resubmission after a crash is recognised (Data API ClientToken, aws-facts §5.3). */
export function batchToken(runId: string, index: number): string {
  return createHash("sha256").update(`${runId}:${index}`).digest("hex").slice(0, 64);
}
