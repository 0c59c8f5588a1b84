import type { Config } from "../config/schema.js";
import { describeError, isSyncError, type SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { assertStateTrusted, recordFailedRun, recordRunEnd, recordRunStart, type RunEnd, type RunRecord, stateTableExists } from "../warehouse/state-store.js";

/**
 * A run the run log could not take, as GET /runs shows it: the server keeps these in memory
 * (README "Security model": a run refused because the state is untrusted writes nothing into it).
 */
export interface UnrecordedRun extends RunRecord {
  /** Why the run is not in the `runs` table. */
  readonly unrecorded: string;
}

const UNTRUSTED = "the state schema failed the trust check: the service writes nothing into it";

/**
 * The `runs` row of one run (issue 13 item 15): written as soon as the state schema is trusted and
 * migrated, before the run reads its source, and finished with the outcome and error code. A run
 * that fails before that (the lease, a migration) still gets one finished row when the schema
 * exists and can be trusted. Otherwise (an untrusted state schema, none yet, or a failed write)
 * end() returns the run as an UnrecordedRun and logs it: the server lists it in GET /runs.
 */
export class RunLog {
  #started = false;

  constructor(
    private readonly executor: SqlExecutor,
    private readonly stateSchema: string,
    private readonly run: { readonly runId: string; readonly command: string; readonly startedAt: Date },
    private readonly log: Logger,
  ) {}

  /** Also marks the rows of runs a killed process left `running` as interrupted (runs.ts, sweepStatement). */
  async start(fencingToken: number | null, leaseTtlMs: number): Promise<void> {
    const interruptedBefore = new Date(this.run.startedAt.getTime() - leaseTtlMs);
    await recordRunStart(this.executor, this.stateSchema, { ...this.run, fencingToken, interruptedBefore });
    this.#started = true;
  }

  /** Never throws: the run's own outcome stands. Returns the run when the run log could not take it. */
  async end(outcome: Omit<RunEnd, "runId">, error: SyncError | null, fencingToken: number | null): Promise<UnrecordedRun | null> {
    let reason: string | null;
    try {
      reason = await this.#write(outcome, error, fencingToken);
    } catch (cause) {
      reason = isSyncError(cause) && cause.code === "STATE_UNTRUSTED" ? UNTRUSTED : `the run log could not be written: ${describeError(cause)}`;
    }
    if (reason === null) return null;
    this.log.error({ errorCode: error?.code ?? null, unrecorded: reason }, `run not recorded in the run log (${reason}); GET /runs of this server lists it`);
    return { ...this.#record(outcome, fencingToken), unrecorded: reason };
  }

  /** null once written; else why nothing was. */
  async #write(outcome: Omit<RunEnd, "runId">, error: SyncError | null, fencingToken: number | null): Promise<string | null> {
    if (this.#started) {
      await recordRunEnd(this.executor, this.stateSchema, { ...outcome, runId: this.run.runId });
      return null;
    }
    if (error === null) return null;
    // An INSERT runs the triggers of whoever controls the schema: nothing is written into a state schema that failed the trust check.
    if (error.code === "STATE_UNTRUSTED") return UNTRUSTED;
    if (!(await stateTableExists(this.executor, this.stateSchema, "runs"))) return "the state schema has no run log yet (not migrated)";
    await assertStateTrusted(this.executor, this.stateSchema);
    await recordFailedRun(this.executor, this.stateSchema, {
      ...this.run,
      fencingToken,
      finishedAt: outcome.finishedAt,
      errorCode: error.code,
      message: describeError(error).slice(0, 4000),
    });
    return null;
  }

  #record(outcome: Omit<RunEnd, "runId">, fencingToken: number | null): RunRecord {
    return {
      runId: this.run.runId,
      command: this.run.command,
      status: outcome.status,
      startedAt: this.run.startedAt.toISOString(),
      finishedAt: outcome.finishedAt.toISOString(),
      fencingToken,
      catalogHash: outcome.catalogHash,
      grants: outcome.grants,
      revokes: outcome.revokes,
      pending: outcome.pending,
      batchesApplied: outcome.batchesApplied,
      batchesTotal: outcome.batchesTotal,
      errorCode: outcome.errorCode ?? null,
      message: outcome.message,
    };
  }
}

/** How long a lease lives without renewal: a `running` row older than this has no live run behind it. */
export function leaseTtlMs(lock: Config["lock"]): number {
  return (lock.kind === "dynamodb" ? lock.leaseSeconds : MEMORY_LEASE_SECONDS) * 1000;
}

/** The memory lock never expires; its tokens restart with the process: the DynamoDB default stands in. */
const MEMORY_LEASE_SECONDS = 120;
