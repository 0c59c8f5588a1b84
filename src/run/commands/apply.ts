import { createInterface } from "node:readline/promises";
import type { Config } from "../../config/schema.js";
import type { Plan } from "../../core/plan.js";
import { planSummaryText, planTextChunks } from "../../core/plan-report.js";
import { describeError, SyncError } from "../../errors.js";
import { createLogger, type Logger } from "../../log.js";
import { reconcile, type RunSummary } from "../reconcile.js";
import { checkSource, openLock, openSource, openTarget } from "../wiring.js";
import { writeChunks } from "./write-chunks.js";

export interface ApplyCommandOptions {
  readonly yes: boolean;
  readonly force: boolean;
  /** Recorded in the run log: "apply", "reconcile" or "demo". */
  readonly command: string;
  readonly logger?: Logger;
}

/** `apply` and `reconcile`: one full run with the plan printed first; asks unless `yes`. */
export async function applyCommand(config: Config, options: ApplyCommandOptions): Promise<number> {
  const logger = options.logger ?? createLogger(config.logLevel);
  await checkSource(config, logger);
  const executor = await openTarget(config);
  const lock = openLock(config);
  const tty = process.stderr.isTTY === true;
  const signals = stopOnSignal(logger);
  try {
    if (!options.yes && process.stdin.isTTY !== true) {
      throw new SyncError("CONFIG_INVALID", "apply asks for confirmation: run it in a terminal, or pass --yes");
    }
    const summary = await reconcile({
      config,
      source: openSource(config),
      executor,
      lock,
      logger,
      command: options.command,
      force: options.force,
      ...(tty ? { progress: (phase: string) => process.stderr.write(`\r\u001b[K${phase}...`) } : {}),
      ...(tty ? { onBatch: (done: number, total: number) => process.stderr.write(`\r\u001b[Kapplying: ${done}/${total} changes`) } : {}),
      // The scheduled reconcile prints one summary line, not the whole plan (issue 13 item 5).
      confirm: (plan) => confirmPlan(plan, options.yes, tty, options.command !== "reconcile"),
      shouldStop: signals.stopping,
    });
    if (tty) process.stderr.write("\r\u001b[K");
    process.stdout.write(`${summaryLine(summary)}\n`);
    return summary.error === null ? 0 : summary.error.exitCode;
  } finally {
    signals.dispose();
    await lock.close();
    await executor.close();
  }
}

/**
 * SIGTERM or SIGINT during a run, as `serve` does: the running batch finishes, no other starts, the
 * run is recorded and the lease released, then the command exits. A second signal takes the default
 * action (immediate exit): the handlers are gone after the first.
 */
function stopOnSignal(logger: Logger): { stopping: () => boolean; dispose: () => void } {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    stopping = true;
    dispose();
    logger.warn({ signal }, "stopping: the running batch finishes, the run is recorded and the lease released (a second signal exits at once)");
  };
  const dispose = () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return { stopping: () => stopping, dispose };
}

/** Prints the plan (or its summary); asks for a literal "yes" unless told yes already or there is nothing to apply. */
async function confirmPlan(plan: Plan, yes: boolean, tty: boolean, wholePlan: boolean): Promise<boolean> {
  if (tty) process.stderr.write("\r\u001b[K");
  if (wholePlan) await writeChunks(process.stdout, planTextChunks(plan, { color: process.stdout.isTTY === true }));
  else process.stdout.write(`${planSummaryText(plan)}\n`);
  if (yes || !plan.applyable) return true;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Ctrl-C at the prompt reaches readline, not the process: it answers "no".
  const interrupted = new AbortController();
  rl.on("SIGINT", () => interrupted.abort());
  try {
    return (await rl.question("\nApply these changes? Only 'yes' is accepted: ", { signal: interrupted.signal })).trim() === "yes";
  } catch (error) {
    if (interrupted.signal.aborted) return false;
    throw error;
  } finally {
    rl.close();
  }
}

/** One line per run: id, status, counts, duration and the error if any. */
export function summaryLine(summary: RunSummary): string {
  const applied = summary.result?.appliedChanges;
  const batches = summary.result?.batches ?? [];
  const parts = [
    `run ${summary.runId} ${summary.status}`,
    `${applied?.grants ?? 0} granted`,
    `${applied?.revokes ?? 0} revoked`,
    `${summary.plan?.summary.pending ?? 0} pending`,
    `${batches.filter((b) => b === "applied").length}/${batches.length} batches`,
    `${summary.durationMs} ms`,
  ];
  if (summary.error !== null) parts.push(`${summary.error.code}: ${describeError(summary.error)}`);
  return parts.join(", ");
}
