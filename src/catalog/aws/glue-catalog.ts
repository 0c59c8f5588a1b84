import { GetDatabasesCommand, GetTablesCommand, type GlueClient, type Table } from "@aws-sdk/client-glue";
import { compareStrings } from "../../core/grants.js";
import { collectPages } from "./calls.js";
import { type ConcurrencyLimit, mapLimited } from "./limit.js";

/** A Glue table as the source needs it: names only, columns in Glue order. */
export interface GlueTable {
  readonly name: string;
  readonly columns: readonly string[];
}

export interface GlueDatabase {
  readonly name: string;
  readonly tables: readonly GlueTable[];
}

export interface GlueCatalog {
  readonly databases: readonly GlueDatabase[];
  readonly warnings: readonly string[];
  /** The account the databases belong to (Glue's Database.CatalogId), when none was configured. */
  readonly catalogId?: string;
}

/**
 * Databases and tables of the catalog, sorted by name. Resource links are skipped with a warning:
 * their tags and columns live on the target, in another catalog (aws-facts §3, trap 18).
 */
export async function readGlueCatalog(glue: GlueClient, catalogId: string | undefined, concurrency: number | ConcurrencyLimit): Promise<GlueCatalog> {
  const warnings: string[] = [];
  const pages = await collectPages("glue:GetDatabases", `catalog ${catalogId ?? "(default)"}`, (NextToken) =>
    glue.send(new GetDatabasesCommand({ CatalogId: catalogId, NextToken })),
  );
  const names: string[] = [];
  let ownerId: string | undefined;
  for (const database of pages.flatMap((p) => p.DatabaseList ?? [])) {
    const name = database.Name ?? "";
    if (database.TargetDatabase !== undefined) {
      const target = database.TargetDatabase;
      warnings.push(
        `skipped Glue database ${name}: a resource link to ${target.CatalogId ?? "?"}:${target.Region ?? "?"}:${target.DatabaseName ?? "?"} (its tags live on the target)`,
      );
      continue;
    }
    names.push(name);
    ownerId ??= database.CatalogId;
  }
  names.sort(compareStrings);
  const perDatabase = await mapLimited(names, concurrency, (name) => readTables(glue, catalogId, name));
  return {
    databases: names.map((name, i) => ({ name, tables: perDatabase[i]?.tables ?? [] })),
    // In database order, not completion order: two reads of one catalog must say the same thing.
    warnings: [...warnings, ...perDatabase.flatMap((d) => d.warnings)],
    ...((catalogId ?? ownerId) === undefined ? {} : { catalogId: (catalogId ?? ownerId)! }),
  };
}

async function readTables(
  glue: GlueClient,
  catalogId: string | undefined,
  database: string,
): Promise<{ tables: GlueTable[]; warnings: string[] }> {
  const warnings: string[] = [];
  const pages = await collectPages("glue:GetTables", `database ${database}`, (NextToken) =>
    glue.send(new GetTablesCommand({ CatalogId: catalogId, DatabaseName: database, NextToken })),
  );
  const tables: GlueTable[] = [];
  for (const table of pages.flatMap((p) => p.TableList ?? [])) {
    const name = table.Name ?? "";
    if (table.TargetTable !== undefined) {
      const target = table.TargetTable;
      warnings.push(
        `skipped Glue table ${database}.${name}: a resource link to ${target.CatalogId ?? "?"}:${target.Region ?? "?"}:${target.DatabaseName ?? "?"}.${target.Name ?? "?"} (its tags live on the target)`,
      );
      continue;
    }
    tables.push({ name, columns: columnNames(table) });
  }
  return { tables: tables.sort((a, b) => compareStrings(a.name, b.name)), warnings };
}

/** Partition keys are columns too: Glue keeps them outside StorageDescriptor.Columns (aws-facts trap 19). */
export function columnNames(table: Table): string[] {
  return [...(table.StorageDescriptor?.Columns ?? []), ...(table.PartitionKeys ?? [])].map((c) => c.Name ?? "");
}
