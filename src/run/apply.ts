import { createHash } from "node:crypto";
import { iterateBatches, type RenderOptions } from "../core/render.js";
import type { Plan } from "../core/plan.js";
import { SyncError } from "../errors.js";
import type { Lease } from "../lock/lock.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { renderStateStatements } from "../warehouse/state-store.js";

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
  /** After each committed batch: changes applied so far out of the plan's total. */
  readonly onBatch?: (appliedChanges: number, totalChanges: number) => void;
  /** Stops before the next batch when it returns true (graceful shutdown). */
  readonly shouldStop?: () => boolean;
}

/** How apply renders a plan for this executor. */
function renderOptions(executor: SqlExecutor, options: Pick<ApplyOptions, "stateSchema" | "runId" | "at">): RenderOptions {
  return {
    dialect: executor.dialect,
    stateStatements: (records) => renderStateStatements(executor.dialect, options.stateSchema, records, options.runId, options.at),
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
  const batches = iterateBatches(plan, renderOptions(executor, options));
  const outcomes: BatchOutcome[] = [];
  let grants = 0;
  let revokes = 0;
  let index = 0;
  for (const batch of batches) {
    try {
      if (options.shouldStop?.()) throw new SyncError("TARGET_FAILED", `stopped before batch ${index + 1} (shutdown)`);
      options.lease?.assertHeld();
      await executor.transaction(batch.statements, { token: batchToken(options.runId, index) });
    } catch (cause) {
      outcomes.push("failed");
      // The rest is rendered only to be counted; nothing of it runs.
      for (const _ of batches) outcomes.push("notRun");
      const error = cause instanceof SyncError ? cause : new SyncError("TARGET_FAILED", `batch ${index + 1} failed`, { cause });
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

/** Deterministic per run and batch: a resubmission after a crash is recognised (Data API ClientToken, aws-facts §5.3). */
export function batchToken(runId: string, index: number): string {
  return createHash("sha256").update(`${runId}:${index}`).digest("hex").slice(0, 64);
}
