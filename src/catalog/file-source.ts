/** CatalogSource of the `file` kind: a snapshot file (DESIGN §4.1), read again on every run. */
import { readFile } from "node:fs/promises";
import { SyncError } from "../errors.js";
import type { CatalogSource, SourceResult } from "./model.js";
import { parseSnapshot, snapshotFormatOf } from "./snapshot.js";

export function createFileSource(path: string): CatalogSource {
  const format = snapshotFormatOf(path);
  return {
    async read(): Promise<SourceResult> {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        // A run that cannot read the whole catalog must apply nothing (CatalogSource contract).
        throw new SyncError("SOURCE_INCOMPLETE", `cannot read the snapshot file ${path}`, { cause: error });
      }
      return { snapshot: parseSnapshot(text, format, path), warnings: [] };
    },
  };
}
