/**
 * Runs submitted statements the way the service does: asynchronously through SUBMITTED, PICKED,
 * STARTED to a terminal status; a batch in one transaction that rolls back as a whole, the failing
 * sub-statement FAILED and the later ones ABORTED (aws-facts §5.1, trap 14).
 */
import type { Backend, Outcome } from "./backends.js";
import type { FaultController } from "./faults.js";
import type { SqlMode } from "./mode.js";
import { messageOf, tick } from "./protocol.js";
import type { ResultMeter } from "./results.js";
import { markSub, setStatus, type Statement, type Status } from "./statements.js";

export interface RunnerParts {
  readonly backend: Backend;
  readonly mode: SqlMode;
  readonly faults: FaultController;
  readonly meter: ResultMeter;
}

class Cancelled extends Error {
  constructor() {
    super("statement cancelled");
  }
}

class BatchFailure extends Error {
  constructor(
    readonly index: number,
    cause: unknown,
  ) {
    super(messageOf(cause), { cause });
  }
}

export async function execute(parts: RunnerParts, statement: Statement): Promise<void> {
  await tick();
  setStatus(statement, "PICKED");
  await tick();
  setStatus(statement, "STARTED");
  statement.startedAt = Date.now();
  const delay = parts.faults.takeDelay();
  if (delay > 0) await sleep(statement, delay);
  if (statement.cancelRequested) return finishAborted(statement, 0);
  statement.runs++;
  if (statement.isBatch) await executeBatch(parts, statement);
  else await executeSingle(parts, statement);
}

async function sleep(statement: Statement, ms: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    statement.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  statement.wake = null;
}

/** A statement run as another user needs a transaction for SET LOCAL ROLE. */
async function runAs(parts: RunnerParts, statement: Statement, transaction: boolean, work: (run: (sql: string) => Promise<Outcome>) => Promise<void>): Promise<void> {
  const submission = { sqls: statement.subs.map((sub) => sub.sql), memo: new Map<string, unknown>() };
  await parts.backend.session(transaction || statement.user !== null, async (session) => {
    if (statement.user !== null) await session.query(`SET LOCAL ROLE "${statement.user.replaceAll('"', '""')}"`);
    await work((sql) => parts.mode.run(session, sql, { inTransaction: transaction, submission }));
  });
}

async function executeSingle(parts: RunnerParts, statement: Statement): Promise<void> {
  const sub = statement.subs[0]!;
  try {
    await runAs(parts, statement, false, async (run) => {
      sub.outcome = await run(sub.sql);
    });
    const tooLarge = parts.meter.check(sub);
    if (tooLarge !== null) sub.outcome = null;
    finish(statement, tooLarge === null ? "FINISHED" : "FAILED", tooLarge);
  } catch (error) {
    finish(statement, "FAILED", `ERROR: ${messageOf(error)}`);
  }
}

async function executeBatch(parts: RunnerParts, statement: Statement): Promise<void> {
  const failure = parts.faults.takeBatchFailure();
  try {
    await runAs(parts, statement, true, async (run) => {
      for (const [index, sub] of statement.subs.entries()) {
        try {
          if (statement.cancelRequested) throw new Cancelled();
          markSub(sub, "STARTED", null);
          if (failure !== null && index === failure.position - 1) throw new Error(failure.message);
          sub.outcome = await run(sub.sql);
          const tooLarge = parts.meter.check(sub);
          if (tooLarge !== null) throw new Error(tooLarge.replace(/^ERROR: /, ""));
        } catch (error) {
          throw new BatchFailure(index, error);
        }
      }
    });
  } catch (error) {
    const failed = error instanceof BatchFailure ? error : new BatchFailure(statement.subs.length - 1, error);
    if (failed.cause instanceof Cancelled) return finishAborted(statement, failed.index);
    return failBatch(statement, failed.index, `ERROR: ${failed.message}`);
  }
  for (const sub of statement.subs) markSub(sub, "FINISHED", null);
  finish(statement, "FINISHED", null);
}

/** The whole transaction rolled back: the statements before the failing one ran, those after did not. */
function failBatch(statement: Statement, failedIndex: number, text: string): void {
  statement.subs.forEach((sub, index) => {
    if (index < failedIndex) markSub(sub, "FINISHED", null);
    else if (index === failedIndex) markSub(sub, "FAILED", text);
    else markSub(sub, "ABORTED", null);
    if (index >= failedIndex) sub.outcome = null;
  });
  finish(statement, "FAILED", text);
}

function finishAborted(statement: Statement, fromIndex: number): void {
  statement.subs.forEach((sub, index) => {
    if (index >= fromIndex) markSub(sub, "ABORTED", null);
  });
  finish(statement, "ABORTED", null);
}

function finish(statement: Statement, status: Status, error: string | null): void {
  if (!statement.isBatch) markSub(statement.subs[0]!, status, error);
  statement.error = error;
  statement.finishedAt = Date.now();
  setStatus(statement, status);
}
