import { describeError, type SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { assertStateTrusted, recordFailedRun, recordRunEnd, recordRunStart, stateTableExists, type RunEnd } from "../warehouse/state-store.js";

/**
 * The `runs` row of one run (issue 13 item 15): written as soon as the state schema is trusted and
 * migrated, before the run reads its source, and finished with the outcome and error code. A run
 * that fails before that (the lease, the trust check, a migration) still gets one finished row when
 * the schema exists and can be trusted, so GET /runs shows every run that started.
 */
export class RunLog {
  #started = false;

  constructor(
    private readonly executor: SqlExecutor,
    private readonly stateSchema: string,
    private readonly run: { readonly runId: string; readonly command: string; readonly startedAt: Date },
    private readonly log: Logger,
  ) {}

  async start(fencingToken: number | null): Promise<void> {
    await recordRunStart(this.executor, this.stateSchema, { ...this.run, fencingToken });
    this.#started = true;
  }

  /** Never throws: a run log that cannot be written is logged, the run's own outcome stands. */
  async end(outcome: Omit<RunEnd, "runId">, error: SyncError | null, fencingToken: number | null): Promise<void> {
    try {
      if (this.#started) {
        await recordRunEnd(this.executor, this.stateSchema, { ...outcome, runId: this.run.runId });
      } else if (error !== null && error.code !== "STATE_UNTRUSTED") {
        await this.#recordFailure(error, outcome.finishedAt, fencingToken);
      }
    } catch (cause) {
      this.log.error({ err: cause }, "could not record the run in the run log");
    }
  }

  /** Only into a runs table that exists and a schema that can be trusted (an INSERT runs its triggers). */
  async #recordFailure(error: SyncError, finishedAt: Date, fencingToken: number | null): Promise<void> {
    if (!(await stateTableExists(this.executor, this.stateSchema, "runs"))) return;
    await assertStateTrusted(this.executor, this.stateSchema);
    await recordFailedRun(this.executor, this.stateSchema, {
      ...this.run,
      fencingToken,
      finishedAt,
      errorCode: error.code,
      message: describeError(error).slice(0, 4000),
    });
  }
}
