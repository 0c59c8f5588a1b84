import { createHash } from "node:crypto";
import { type Batch, renderBatches } from "../core/render.js";
import type { Plan } from "../core/plan.js";
import { SyncError } from "../errors.js";
import type { Lease } from "../lock/lock.js";
import type { SqlExecutor } from "../target/executor.js";
import { renderStateStatements } from "../target/state-store.js";

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
  readonly onBatch?: (index: number, total: number) => void;
  /** Stops before the next batch when it returns true (graceful shutdown). */
  readonly shouldStop?: () => boolean;
}

/** The batches apply will run, each with its state rows: exposed so tests and reviewers can see them. */
export function planBatches(plan: Plan, executor: SqlExecutor, options: Pick<ApplyOptions, "stateSchema" | "runId" | "at">): Batch[] {
  return renderBatches(plan, {
    dialect: executor.dialect,
    stateStatements: (records) => renderStateStatements(executor.dialect, options.stateSchema, records, options.runId, options.at),
  });
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
  const batches = planBatches(plan, executor, options);
  const outcomes: BatchOutcome[] = batches.map(() => "notRun");
  let grants = 0;
  let revokes = 0;
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    try {
      if (options.shouldStop?.()) throw new SyncError("TARGET_FAILED", `stopped before batch ${i + 1} of ${batches.length} (shutdown)`);
      options.lease?.assertHeld();
      await executor.transaction(batch.statements, { token: batchToken(options.runId, i) });
    } catch (cause) {
      outcomes[i] = "failed";
      const error = cause instanceof SyncError ? cause : new SyncError("TARGET_FAILED", `batch ${i + 1} of ${batches.length} failed`, { cause });
      return { batches: outcomes, appliedChanges: { grants, revokes }, error };
    }
    outcomes[i] = "applied";
    for (const c of batch.changes) c.op === "grant" ? grants++ : revokes++;
    options.onBatch?.(i + 1, batches.length);
  }
  return { batches: outcomes, appliedChanges: { grants, revokes } };
}

/** Deterministic per run and batch: a resubmission after a crash is recognised (Data API ClientToken, aws-facts §5.3). */
export function batchToken(runId: string, index: number): string {
  return createHash("sha256").update(`${runId}:${index}`).digest("hex").slice(0, 64);
}
