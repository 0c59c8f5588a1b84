import { GetTableCommand, type GlueClient } from "@aws-sdk/client-glue";
import type { LakeFormationClient } from "@aws-sdk/client-lakeformation";
import { callAws } from "./calls.js";
import { type TableTags, readTableTags } from "./lf-tags.js";
import { isEntityNotFound, orNull } from "./resource-reads.js";

/**
 * A table's tags, or "gone" when it was dropped between GetTables and GetResourceLFTags (issue 11):
 * the EntityNotFoundException is believed only once Glue, asked again, no longer lists the table.
 * Any other failure, or a table Glue still lists, stays a failure of the whole read.
 */
export async function readTableTagsOrGone(
  lf: LakeFormationClient,
  glue: GlueClient,
  catalogId: string | undefined,
  database: string,
  table: string,
): Promise<TableTags | "gone"> {
  try {
    return await readTableTags(lf, catalogId, database, table);
  } catch (error) {
    if (!isEntityNotFound(error)) throw error;
    const found = await orNull(() => callAws("glue:GetTable", `table ${database}.${table}`, () => glue.send(new GetTableCommand({ CatalogId: catalogId, DatabaseName: database, Name: table }))));
    if (found === null) return "gone";
    throw error;
  }
}
