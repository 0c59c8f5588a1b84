import type { Config } from "../../config/schema.js";
import { createLogger } from "../../log.js";
import { prepareState } from "../reconcile.js";
import { openTarget } from "../wiring.js";

/** `migrate`: create or upgrade the state schema, and say which migrations ran; refuses a schema someone else controls. */
export async function migrateCommand(config: Config): Promise<number> {
  const executor = await openTarget(config);
  try {
    const result = await prepareState(executor, config.stateSchema, createLogger(config.logLevel));
    process.stdout.write(`applied: ${result.applied.join(", ") || "none"}; already applied: ${result.alreadyApplied.join(", ") || "none"}\n`);
    return 0;
  } finally {
    await executor.close();
  }
}
