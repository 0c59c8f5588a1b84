import { writeFile } from "node:fs/promises";
import { serializeSnapshot, snapshotFormatOf } from "../../catalog/snapshot.js";
import type { Config } from "../../config/schema.js";
import { openSource } from "../wiring.js";
import { formatOption } from "./format-option.js";

/** `snapshot export`: the catalog as the source sees it, to stdout or a file (format from --format or the file name). */
export async function exportCommand(config: Config, out: string | undefined, format: string | undefined): Promise<number> {
  const { snapshot, warnings } = await openSource(config).read();
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const chosen = formatOption(format, ["yaml", "json"], out === undefined ? "yaml" : snapshotFormatOf(out));
  const text = serializeSnapshot(snapshot, chosen);
  if (out === undefined) process.stdout.write(text);
  else await writeFile(out, text, "utf8");
  return 0;
}
