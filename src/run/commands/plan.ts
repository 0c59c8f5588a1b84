import type { Config } from "../../config/schema.js";
import { planJsonChunks, planTextChunks } from "../../core/plan-report.js";
import { computePlan } from "../compute-plan.js";
import { createLogger } from "../../log.js";
import { checkSource, openSource, openTarget } from "../wiring.js";
import { writeChunks } from "./write-chunks.js";

/** `plan`: what apply would change, read-only, as text or JSON on stdout. */
export async function planCommand(config: Config, format: "text" | "json", force: boolean): Promise<number> {
  await checkSource(config, createLogger(config.logLevel));
  const executor = await openTarget(config);
  try {
    const { plan } = await computePlan({ config, source: openSource(config), executor, force });
    await writeChunks(process.stdout, format === "json" ? planJsonChunks(plan) : planTextChunks(plan, { color: process.stdout.isTTY === true }));
    return 0;
  } finally {
    await executor.close();
  }
}
