import {
  GetResourceLFTagsCommand,
  ListLFTagsCommand,
  type LakeFormationClient,
  type LFTagPair,
} from "@aws-sdk/client-lakeformation";
import { compareStrings } from "../../core/grants.js";
import { SyncError } from "../../errors.js";
import type { TagMap } from "../model.js";
import { callAws, collectPages } from "./calls.js";

/** Tags assigned to one table and to its columns (column name -> assigned tags). */
export interface TableTags {
  readonly tags: TagMap;
  readonly columns: ReadonlyMap<string, TagMap>;
}

/** Lake Formation stores keys and values lower-cased (aws-facts §1.1): normalise once, here. */
export function normaliseTag(text: string): string {
  return text.toLowerCase();
}

/** The LF-tag ontology, keys and values lower-cased and sorted. */
export async function readTagOntology(
  lf: LakeFormationClient,
  catalogId: string | undefined,
): Promise<Record<string, readonly string[]>> {
  const pages = await collectPages("lakeformation:ListLFTags", `catalog ${catalogId ?? "(default)"}`, (NextToken) =>
    lf.send(new ListLFTagsCommand({ CatalogId: catalogId, NextToken })),
  );
  const values = new Map<string, Set<string>>();
  for (const pair of pages.flatMap((p) => p.LFTags ?? [])) {
    const key = normaliseTag(pair.TagKey ?? "");
    const set = values.get(key) ?? new Set<string>();
    for (const value of pair.TagValues ?? []) set.add(normaliseTag(value));
    values.set(key, set);
  }
  return Object.fromEntries(
    [...values.keys()].sort(compareStrings).map((key) => [key, [...(values.get(key) ?? [])].sort(compareStrings)]),
  );
}

/**
 * Tags assigned directly to a database. ShowAssignedLFTags=true asks for the assignment, not the
 * effective tags: the core computes inheritance (aws-facts §2.1, trap 5).
 */
export async function readDatabaseTags(lf: LakeFormationClient, catalogId: string | undefined, database: string): Promise<TagMap> {
  const where = `database ${database}`;
  const response = await callAws("lakeformation:GetResourceLFTags", where, () =>
    lf.send(
      new GetResourceLFTagsCommand({
        CatalogId: catalogId,
        Resource: { Database: { CatalogId: catalogId, Name: database } },
        ShowAssignedLFTags: true,
      }),
    ),
  );
  // The field really is singular (LFTagOnDatabase), next to the plural LFTagsOnTable (aws-facts §2.1).
  return assignedTags(response.LFTagOnDatabase, where);
}

/**
 * Tags assigned to a table and its columns, asked at table level: asking per column was reported to
 * return nothing (aws-facts §2.1).
 */
export async function readTableTags(
  lf: LakeFormationClient,
  catalogId: string | undefined,
  database: string,
  table: string,
): Promise<TableTags> {
  const where = `table ${database}.${table}`;
  const response = await callAws("lakeformation:GetResourceLFTags", where, () =>
    lf.send(
      new GetResourceLFTagsCommand({
        CatalogId: catalogId,
        Resource: { Table: { CatalogId: catalogId, DatabaseName: database, Name: table } },
        ShowAssignedLFTags: true,
      }),
    ),
  );
  const columns = new Map<string, TagMap>();
  for (const column of response.LFTagsOnColumns ?? []) {
    const name = column.Name ?? "";
    const tags = assignedTags(column.LFTags, `column ${database}.${table}.${name}`);
    if (Object.keys(tags).length > 0) columns.set(name, tags);
  }
  return { tags: assignedTags(response.LFTagsOnTable, where), columns };
}

/**
 * One value per key, lower-cased. A resource holds one value per key (aws-facts §1.2), yet the API
 * shape carries a list: a pair with no value or several values is drift we refuse rather than pick
 * from, because picking a value could widen access.
 */
function assignedTags(pairs: readonly LFTagPair[] | undefined, where: string): TagMap {
  const tags = new Map<string, string>();
  for (const pair of pairs ?? []) {
    const key = normaliseTag(pair.TagKey ?? "");
    const values = [...new Set((pair.TagValues ?? []).map(normaliseTag))];
    const previous = tags.get(key);
    if (values.length !== 1 || (previous !== undefined && previous !== values[0])) {
      const all = previous === undefined ? values : [previous, ...values];
      throw new SyncError(
        "SOURCE_INCOMPLETE",
        `lakeformation:GetResourceLFTags ${where}: tag ${key} is assigned ${all.length === 0 ? "no value" : `the values [${all.join(", ")}]`}; a resource holds exactly one value per key (aws-facts §1.2), and guessing one could widen access`,
      );
    }
    tags.set(key, values[0] as string);
  }
  return Object.fromEntries([...tags.keys()].sort(compareStrings).map((key) => [key, tags.get(key) as string]));
}
