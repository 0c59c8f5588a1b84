import type { Config } from "../../config/schema.js";
import { accessCsvChunks, accessJsonChunks } from "../../core/access/access-report.js";
import { accessTextChunks, explainText } from "../../core/access/access-text.js";
import { type AccessFilter, computeAccess, computeExplanation, type ExplainRequest } from "../access.js";
import { createLogger } from "../../log.js";
import { checkSource, openSource, openTarget } from "../wiring.js";
import { writeChunks } from "./write-chunks.js";

/** `access`: the current effective access and why, as text, JSON or CSV on stdout. */
export async function accessCommand(config: Config, format: "text" | "json" | "csv", filter: AccessFilter): Promise<number> {
  // A partial catalog would show auditors grants as unexplained that Lake Formation allows.
  await checkSource(config, createLogger(config.logLevel));
  const executor = await openTarget(config);
  try {
    const { rows } = await computeAccess({ config, source: openSource(config), executor, filter });
    const chunks = format === "json" ? accessJsonChunks(rows) : format === "csv" ? accessCsvChunks(rows) : accessTextChunks(rows);
    await writeChunks(process.stdout, chunks);
    return 0;
  } finally {
    await executor.close();
  }
}

/** `explain`: why a grantee can (or can't) read a table or column. */
export async function explainCommand(config: Config, format: "text" | "json", request: ExplainRequest): Promise<number> {
  await checkSource(config, createLogger(config.logLevel));
  const executor = await openTarget(config);
  try {
    const explanation = await computeExplanation({ config, source: openSource(config), executor, request });
    process.stdout.write(format === "json" ? `${JSON.stringify(explanation, null, 2)}\n` : explainText(explanation, request.grantee));
    return 0;
  } finally {
    await executor.close();
  }
}
