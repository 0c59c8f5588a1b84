import { randomUUID } from "node:crypto";
import type { CatalogSource } from "../catalog/model.js";
import type { Config } from "../config/schema.js";
import { type Plan, planSchemas } from "../core/plan.js";
import { describeError, SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Lease, RunLock } from "../lock/lock.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { runMigrations } from "../warehouse/migrate.js";
import { checkTargetPermissions } from "../warehouse/preflight.js";
import { lastCatalogHash, moveLegacyGrants, recordRunEnd, recordRunStart, renderTagAssignmentStatements } from "../warehouse/state-store.js";
import { type ApplyResult, applyPlan } from "./apply.js";
import { computePlan, type ProgressSink } from "./compute-plan.js";
import { targetKey } from "./wiring.js";

export type RunStatus = "succeeded" | "failed" | "refused" | "busy" | "cancelled";

export interface RunSummary {
  readonly runId: string;
  readonly status: RunStatus;
  readonly plan: Plan | null;
  readonly result: ApplyResult | null;
  readonly error: SyncError | null;
  readonly fencingToken: number | null;
  readonly durationMs: number;
}

export interface ReconcileOptions {
  readonly config: Config;
  readonly source: CatalogSource;
  readonly executor: SqlExecutor;
  readonly lock: RunLock;
  readonly logger: Logger;
  readonly command?: string;
  readonly force?: boolean;
  readonly runId?: string;
  readonly progress?: ProgressSink & ((phase: string, detail?: string) => void);
  readonly onBatch?: (appliedChanges: number, totalChanges: number) => void;
  readonly shouldStop?: () => boolean;
  /** Asked with the plan computed under the lease; false cancels the run before any batch. */
  readonly confirm?: (plan: Plan) => Promise<boolean>;
  readonly now?: () => Date;
}

/**
 * One full run (level-triggered: the whole desired state, whatever triggered it): take the lease,
 * migrate, check the database user, plan, apply batch by batch, record the run, release.
 * Never throws: the outcome says what happened, and `error` carries the code for the exit status.
 */
export async function reconcile(options: ReconcileOptions): Promise<RunSummary> {
  const { config, executor, logger } = options;
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? randomUUID();
  const started = performance.now();
  const log = logger.child({ runId });
  let lease: Lease | null = null;
  let plan: Plan | null = null;
  let result: ApplyResult | null = null;
  let runRecorded = false;
  const finish = async (status: RunStatus, error: SyncError | null): Promise<RunSummary> => {
    const durationMs = Math.round(performance.now() - started);
    if (runRecorded) {
      await recordRunEnd(executor, config.stateSchema, {
        runId,
        status: status === "busy" || status === "cancelled" ? "failed" : status,
        finishedAt: now(),
        grants: result?.appliedChanges.grants ?? 0,
        revokes: result?.appliedChanges.revokes ?? 0,
        pending: plan?.summary.pending ?? 0,
        batchesApplied: result?.batches.filter((b) => b === "applied").length ?? 0,
        batchesTotal: result?.batches.length ?? 0,
        catalogHash: status === "succeeded" ? catalogHash : null,
        message: status === "cancelled" ? "cancelled at the confirmation prompt" : error === null ? null : describeError(error).slice(0, 4000),
      }).catch((cause: unknown) => log.error({ err: cause }, "could not record the end of the run"));
    }
    if (lease !== null) await lease.release().catch((cause: unknown) => log.warn({ err: cause }, "could not release the lease"));
    const summary = { runId, status, plan, result, error, fencingToken: lease?.fencingToken ?? null, durationMs };
    if (error !== null) log.error({ code: error.code, err: error, durationMs }, `run ${status}: ${describeError(error)}`);
    return summary;
  };
  let catalogHash: string | null = null;

  try {
    lease = await options.lock.acquire(targetKey(config), `${process.pid}@${runId}`);
  } catch (cause) {
    const error = asSyncError(cause);
    return finish(error.code === "LEASE_HELD" ? "busy" : "failed", error);
  }
  try {
    const migrations = await runMigrations(executor, config.stateSchema);
    if (migrations.applied.length > 0) log.info({ applied: migrations.applied }, "state schema migrated");
    // Grants recorded before migration 0002 (a row per column) move to one row per slot, once.
    const moved = await moveLegacyGrants(executor, config.stateSchema);
    if (moved > 0) log.info({ moved }, "grants recorded before migration 0002 moved to grant_slots");
    const computed = await computePlan({ config, source: options.source, executor, force: options.force ?? false, ...(options.progress ? { progress: options.progress } : {}) });
    plan = computed.plan;
    catalogHash = computed.catalogHash;
    log.info({ summary: plan.summary, timings: computed.timings, warnings: plan.warnings.length }, "plan computed");
    await recordRunStart(executor, config.stateSchema, { runId, command: options.command ?? "apply", startedAt: now(), fencingToken: lease.fencingToken });
    runRecorded = true;
    if (plan.safety.refused) {
      return await finish("refused", new SyncError("SAFETY_REFUSED", `refused: ${plan.safety.reasons.join("; ")} (use --force to apply anyway)`));
    }
    if (options.confirm !== undefined && !(await options.confirm(plan))) return await finish("cancelled", null);
    // Column grants need the owner or a superuser (aws-facts §6.2): check the schemas this plan touches, before any batch.
    const schemas = planSchemas(plan);
    if (schemas.length > 0) await checkTargetPermissions(executor, { schemas });
    if (plan.safety.forced) log.warn({ reasons: plan.safety.reasons }, "safety rules overridden by --force");
    const at = now();
    result = await applyPlan(executor, plan, {
      stateSchema: config.stateSchema,
      runId,
      at,
      lease,
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
    });
    if (result.error !== undefined) return await finish("failed", result.error);
    if (catalogHash !== (await lastCatalogHash(executor, config.stateSchema))) {
      lease.assertHeld();
      for (const statements of chunk(renderTagAssignmentStatements(executor.dialect, config.stateSchema, computed.snapshot, runId, at), 40)) {
        await executor.transaction(statements);
      }
    }
    return await finish("succeeded", null);
  } catch (cause) {
    return finish("failed", asSyncError(cause));
  }
}

function asSyncError(cause: unknown): SyncError {
  // Adapters raise SyncErrors with their own codes (TARGET_FAILED, SOURCE_INCOMPLETE, ...): anything else is a failure of the service itself.
  return cause instanceof SyncError ? cause : new SyncError("INTERNAL", describeError(cause), { cause });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

