import { EntityNotFoundException as GlueEntityNotFound, GetDatabaseCommand, GetTableCommand, type GlueClient } from "@aws-sdk/client-glue";
import type { LakeFormationClient } from "@aws-sdk/client-lakeformation";
import { SyncError } from "../../errors.js";
import type { ResourceReader, TableEntry, TagMap } from "../model.js";
import { callAws } from "./calls.js";
import { columnNames } from "./glue-catalog.js";
import { readNamedExpressions, readTagPolicies } from "./lf-policies.js";
import { readDatabaseTags, readTableTags } from "./lf-tags.js";

/**
 * Single-resource reads over the same clients as the full read: Glue for the shape, Lake Formation
 * for the assigned tags. A resource that is gone (EntityNotFoundException) reads as null; any other
 * failure throws, so the run applies nothing.
 */
export function awsResourceReader(lf: LakeFormationClient, glue: GlueClient, catalogId: string | undefined): ResourceReader {
  return {
    async readTable(database, table) {
      const found = await orNull(() => callAws("glue:GetTable", `table ${database}.${table}`, () => glue.send(new GetTableCommand({ CatalogId: catalogId, DatabaseName: database, Name: table }))));
      const glueTable = found?.Table;
      // A resource link's tags live in the other catalog; the full read skips it too (aws-facts trap 18).
      if (glueTable === undefined || glueTable.TargetTable !== undefined) return null;
      const assigned = await orNull(() => readTableTags(lf, catalogId, database, table));
      if (assigned === null) return null;
      const columns = columnNames(glueTable).map((name) => ({ name, tags: assigned.columns.get(name) ?? {} }));
      const entry: TableEntry = { name: table, tags: assigned.tags, columns };
      return entry;
    },
    async readDatabaseTags(database) {
      const found = await orNull(() => callAws("glue:GetDatabase", `database ${database}`, () => glue.send(new GetDatabaseCommand({ CatalogId: catalogId, Name: database }))));
      if (found?.Database === undefined || found.Database.TargetDatabase !== undefined) return null;
      const tags: TagMap | null = await orNull(() => readDatabaseTags(lf, catalogId, database));
      return tags;
    },
    async readPolicies() {
      const { policies, warnings } = await readTagPolicies(lf, catalogId);
      const referenced = policies.flatMap((p) => (p.expressionName === undefined ? [] : [p.expressionName]));
      const named = await readNamedExpressions(lf, catalogId, referenced);
      return { policies, expressions: named.expressions, warnings: [...warnings, ...named.warnings] };
    },
  };
}

/** null when the resource is gone (Glue or Lake Formation EntityNotFoundException), else the value or the error. */
export async function orNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (isEntityNotFound(error)) return null;
    throw error;
  }
}

/** The SDK error (or the SOURCE_INCOMPLETE wrapping it) says the resource does not exist. */
export function isEntityNotFound(error: unknown): boolean {
  const cause = error instanceof SyncError ? error.cause : error;
  return cause instanceof GlueEntityNotFound || (cause instanceof Error && cause.name === "EntityNotFoundException");
}
