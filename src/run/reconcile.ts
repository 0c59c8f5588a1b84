import { randomUUID } from "node:crypto";
import type { CatalogSource } from "../catalog/model.js";
import type { Config } from "../config/schema.js";
import { type Plan, planSchemas } from "../core/plan.js";
import { statementBatches } from "../core/render.js";
import { describeError, SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Lease, RunLock } from "../lock/lock.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { runMigrations } from "../warehouse/migrate.js";
import { checkTargetPermissions } from "../warehouse/preflight.js";
import { assertStateTrusted, lastCatalogHash, renderTagAssignmentStatements } from "../warehouse/state-store.js";
import { type ApplyResult, applyPlan } from "./apply.js";
import { computePlan, type PlanResult, type ProgressSink } from "./compute-plan.js";
import { leaseTtlMs, RunLog, type UnrecordedRun } from "./run-log.js";
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
  /** The run as GET /runs shows it, when the run log could not take it (run-log.ts); absent when recorded. */
  readonly unrecorded?: UnrecordedRun;
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

/** What a run has got to so far: what finish() records. */
interface RunState {
  lease: Lease | null;
  computed: PlanResult | null;
  result: ApplyResult | null;
}

let memoryLockWarned = false;

/** The memory lock fences nothing across processes: say so once per process (issue 13 item 10). */
function warnMemoryLock(config: Config, log: Logger): void {
  if (config.lock.kind !== "memory" || memoryLockWarned) return;
  memoryLockWarned = true;
  log.warn(
    { lock: "memory" },
    "running with the memory lock: it only keeps runs of this process apart, and batches are not fenced. Use lock.kind dynamodb when more than one process can run against this target",
  );
}

/**
 * One full run (level-triggered: the whole desired state, whatever triggered it): take the lease,
 * check and migrate the state schema, write the run's row, plan, apply batch by batch, record the
 * outcome, release. Never throws: the outcome says what happened, and `error` carries the code for
 * the exit status.
 */
export async function reconcile(options: ReconcileOptions): Promise<RunSummary> {
  const { config, executor } = options;
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? randomUUID();
  const started = performance.now();
  const log = options.logger.child({ runId });
  warnMemoryLock(config, log);
  const runLog = new RunLog(executor, config.stateSchema, { runId, command: options.command ?? "apply", startedAt: now() }, log);
  const state: RunState = { lease: null, computed: null, result: null };

  const finish = async (status: RunStatus, error: SyncError | null): Promise<RunSummary> => {
    const { lease, computed, result } = state;
    const unrecorded = await runLog.end(
      {
        status: status === "busy" || status === "cancelled" ? "failed" : status,
        finishedAt: now(),
        grants: result?.appliedChanges.grants ?? 0,
        revokes: result?.appliedChanges.revokes ?? 0,
        pending: computed?.plan.summary.pending ?? 0,
        batchesApplied: result?.batches.filter((b) => b === "applied").length ?? 0,
        batchesTotal: result?.batches.length ?? 0,
        catalogHash: status === "succeeded" ? (computed?.catalogHash ?? null) : null,
        errorCode: error?.code ?? null,
        message: status === "cancelled" ? "cancelled at the confirmation prompt" : error === null ? null : describeError(error).slice(0, 4000),
      },
      error,
      lease?.fencingToken ?? null,
    );
    if (lease !== null) await lease.release().catch((cause: unknown) => log.warn({ err: cause }, "could not release the lease"));
    const durationMs = Math.round(performance.now() - started);
    if (error !== null) log.error({ code: error.code, err: error, durationMs }, `run ${status}: ${describeError(error)}`);
    return { runId, status, plan: computed?.plan ?? null, result, error, fencingToken: lease?.fencingToken ?? null, durationMs, ...(unrecorded === null ? {} : { unrecorded }) };
  };

  try {
    state.lease = await options.lock.acquire(targetKey(config), `${process.pid}@${runId}`);
  } catch (cause) {
    const error = asSyncError(cause);
    return finish(error.code === "LEASE_HELD" ? "busy" : "failed", error);
  }
  try {
    await prepareState(executor, config.stateSchema, log);
    await runLog.start(state.lease.fencingToken, leaseTtlMs(config.lock));
    const outcome = await planAndApply(options, state, state.lease, { runId, log, now });
    return await finish(outcome.status, outcome.error);
  } catch (cause) {
    return finish("failed", asSyncError(cause));
  }
}

/**
 * Under the lease, before any write: refuse a state schema someone else controls, migrate it, and
 * check again what the migrations left (issue 13 item 1). `migrate` runs it too.
 */
export async function prepareState(executor: SqlExecutor, stateSchema: string, log: Pick<Logger, "info">): Promise<{ applied: string[]; alreadyApplied: string[] }> {
  await assertStateTrusted(executor, stateSchema);
  const migrations = await runMigrations(executor, stateSchema);
  if (migrations.applied.length > 0) log.info({ applied: migrations.applied }, "state schema migrated");
  await assertStateTrusted(executor, stateSchema);
  return migrations;
}

/** Plan, confirm, check permissions, apply and record the tag assignments; fills `state` as it goes. */
async function planAndApply(
  options: ReconcileOptions,
  state: RunState,
  lease: Lease,
  run: { readonly runId: string; readonly log: Logger; readonly now: () => Date },
): Promise<{ status: RunStatus; error: SyncError | null }> {
  const { config, executor } = options;
  const { runId, log, now } = run;
  const computed = await computePlan({ config, source: options.source, executor, force: options.force ?? false, ...(options.progress ? { progress: options.progress } : {}) });
  state.computed = computed;
  const { plan } = computed;
  log.info({ summary: plan.summary, timings: computed.timings, warnings: plan.warnings.length }, "plan computed");
  if (plan.safety.refused) {
    return { status: "refused", error: new SyncError("SAFETY_REFUSED", `refused: ${plan.safety.reasons.join("; ")} (use --force to apply anyway)`) };
  }
  if (options.confirm !== undefined && !(await options.confirm(plan))) return { status: "cancelled", error: null };
  // Column grants need the owner or a superuser (aws-facts §6.2): check the schemas this plan touches, before any batch.
  const schemas = planSchemas(plan);
  if (schemas.length > 0) await checkTargetPermissions(executor, { schemas });
  if (plan.safety.forced) log.warn({ reasons: plan.safety.reasons }, "safety rules overridden by --force");
  const at = now();
  state.result = await applyPlan(executor, plan, {
    stateSchema: config.stateSchema,
    runId,
    at,
    lease,
    fence: config.lock.kind !== "memory",
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
  });
  if (state.result.error !== undefined) return { status: "failed", error: state.result.error };
  if (computed.catalogHash !== (await lastCatalogHash(executor, config.stateSchema))) {
    lease.assertHeld();
    // Batches the Data API takes (render.ts: 40 statements, 100 KB on Redshift), as the plan's are.
    for (const statements of statementBatches(renderTagAssignmentStatements(executor.dialect, config.stateSchema, computed.snapshot, runId, at), executor.dialect)) {
      await executor.transaction(statements);
    }
  }
  return { status: "succeeded", error: null };
}

function asSyncError(cause: unknown): SyncError {
  // Adapters raise SyncErrors with their own codes (TARGET_FAILED, SOURCE_INCOMPLETE, ...): anything else is a failure of the service itself.
  return cause instanceof SyncError ? cause : new SyncError("INTERNAL", describeError(cause), { cause });
}
