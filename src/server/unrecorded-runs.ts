import type { UnrecordedRun } from "../run/run-log.js";
import type { RunRecord } from "../warehouse/state-store.js";

/**
 * Runs of this server that the run log could not take (an untrusted or unmigrated state schema, a
 * failed write: run-log.ts), newest last, at most `max`: GET /runs lists them with the run log's
 * rows, marked `unrecorded`, so that an outage that keeps the run log unusable is still visible.
 * Memory only: a restart forgets them (the log and lfsync_runs_unrecorded_total keep the trace).
 */
export class UnrecordedRuns {
  readonly #runs: UnrecordedRun[] = [];

  constructor(private readonly max = 100) {}

  add(run: UnrecordedRun): void {
    const i = this.#runs.findIndex((r) => r.runId === run.runId);
    if (i >= 0) this.#runs.splice(i, 1);
    this.#runs.push(run);
    if (this.#runs.length > this.max) this.#runs.shift();
  }

  get(runId: string): UnrecordedRun | null {
    return this.#runs.find((r) => r.runId === runId) ?? null;
  }

  /** The run log's rows and these, newest first (started_at, then run id, as listRuns orders), at most `limit`; these win over a row of the same run. */
  merge(recorded: readonly RunRecord[], limit: number): (RunRecord | UnrecordedRun)[] {
    if (this.#runs.length === 0) return [...recorded];
    const mine = new Set(this.#runs.map((r) => r.runId));
    const all: (RunRecord | UnrecordedRun)[] = [...recorded.filter((r) => !mine.has(r.runId)), ...this.#runs];
    all.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
    return all.slice(0, limit);
  }
}
