/** Faults a test injects into the local Data API endpoint: rejected calls, failing batches, slow statements, lost connections. */

export interface Rejection {
  remaining: number;
  readonly type: string;
  readonly status: number;
  readonly operations: readonly string[] | null;
}

/** Faults for the next requests or statements; each one is used up as it fires. */
export class FaultController {
  private rejections: Rejection[] = [];
  private batchFailure: { position: number; message: string } | null = null;
  private slow: { ms: number; remaining: number } | null = null;
  private drops: { remaining: number; when: "before" | "after" } | null = null;

  /** The next batch fails at statement `position` (1-based), as if PostgreSQL had raised `message`. */
  failNextBatchAt(position: number, message = "injected failure"): void {
    this.batchFailure = { position, message };
  }

  /** The next `calls` requests (of the given operations, default all) get HTTP 400 ThrottlingException. */
  throttle(calls: number, operations?: readonly string[]): void {
    this.reject(calls, "ThrottlingException", 400, operations);
  }

  /** The next `calls` submits get the modeled 400 ActiveStatementsExceededException. */
  exceedActiveStatements(calls: number): void {
    this.reject(calls, "ActiveStatementsExceededException", 400, ["ExecuteStatement", "BatchExecuteStatement"]);
  }

  reject(calls: number, type: string, status: number, operations?: readonly string[]): void {
    this.rejections.push({ remaining: calls, type, status, operations: operations ?? null });
  }

  /** The next `count` statements wait `ms` in STARTED before they run (CancelStatement still works). */
  slowStatements(ms: number, count = 1): void {
    this.slow = { ms, remaining: count };
  }

  /**
   * The next `count` requests lose their connection: `before` the endpoint handles them, or
   * `after` (the operation took effect, the answer is lost: the case ClientToken exists for).
   */
  dropConnections(count = 1, when: "before" | "after" = "before"): void {
    this.drops = { remaining: count, when };
  }

  reset(): void {
    this.rejections = [];
    this.batchFailure = null;
    this.slow = null;
    this.drops = null;
  }

  /** @internal */
  takeRejection(operation: string): Rejection | null {
    const rejection = this.rejections.find(
      (r) => r.remaining > 0 && (r.operations === null || r.operations.includes(operation)),
    );
    if (rejection === undefined) return null;
    rejection.remaining--;
    return rejection;
  }

  /** @internal */
  takeBatchFailure(): { position: number; message: string } | null {
    const failure = this.batchFailure;
    this.batchFailure = null;
    return failure;
  }

  /** @internal */
  takeDelay(): number {
    if (this.slow === null || this.slow.remaining <= 0) return 0;
    this.slow.remaining--;
    return this.slow.ms;
  }

  /** @internal */
  takeDrop(): "before" | "after" | null {
    if (this.drops === null || this.drops.remaining <= 0) return null;
    this.drops.remaining--;
    return this.drops.when;
  }
}

