import type { Config } from "../../config/schema.js";
import { runMigrations } from "../../warehouse/migrate.js";
import { openTarget } from "../wiring.js";

/** `migrate`: create or upgrade the state schema, and say which migrations ran. */
export async function migrateCommand(config: Config): Promise<number> {
  const executor = await openTarget(config);
  try {
    const result = await runMigrations(executor, config.stateSchema);
    process.stdout.write(`applied: ${result.applied.join(", ") || "none"}; already applied: ${result.alreadyApplied.join(", ") || "none"}\n`);
    return 0;
  } finally {
    await executor.close();
  }
}
