import type { EventEnvelope } from "./events.js";

/** What an incremental run re-reads for one event (issue 11). */
export type ResourceRead =
  /** `columns`: the column names an UpdateTable sent (columns then partition keys), when it sent them. */
  | { readonly kind: "table"; readonly database: string; readonly table: string; readonly columns?: readonly string[] }
  | { readonly kind: "database"; readonly database: string }
  | { readonly kind: "policies" };

export type EventReads =
  | { readonly kind: "ignore"; readonly reason: string }
  | { readonly kind: "full"; readonly reason: string }
  | { readonly kind: "read"; readonly reads: readonly ResourceRead[] };

/** Glue native Table State Change kinds that touch partitions only: no column, tag or grant changes. */
const PARTITION_CHANGES: ReadonlySet<string> = new Set([
  "CreatePartition",
  "BatchCreatePartition",
  "UpdatePartition",
  "BatchUpdatePartition",
  "DeletePartition",
  "BatchDeletePartition",
]);
export const PARTITION_CHANGE_TYPES: readonly string[] = [...PARTITION_CHANGES];

type Json = Record<string, unknown>;

/** A field whatever its first letter's case: CloudTrail's requestParameters casing is unconfirmed (aws-facts §4.2). */
function field(value: unknown, name: string): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const record = value as Json;
  const lower = name[0]!.toLowerCase() + name.slice(1);
  const upper = name[0]!.toUpperCase() + name.slice(1);
  return record[lower] ?? record[upper];
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * The resources a relevant event names, or why it needs no run, or why only a full run can answer
 * it. Anything this code does not recognise asks for a full run: an event is a hint, never trusted
 * to be complete.
 */
export function eventReads(event: EventEnvelope, name: string): EventReads {
  if (event.source === "aws.glue" && !("eventName" in event.detail)) return glueStateChangeReads(event);
  const params = field(event.detail, "requestParameters");
  switch (name) {
    case "AddLFTagsToResource":
    case "RemoveLFTagsFromResource":
      return resourceReads(field(params, "resource"), name);
    case "GrantPermissions":
    case "RevokePermissions":
    case "BatchGrantPermissions":
    case "BatchRevokePermissions":
      return permissionReads(params, name);
    case "CreateLFTagExpression":
    case "UpdateLFTagExpression":
    case "DeleteLFTagExpression":
      return { kind: "read", reads: [{ kind: "policies" }] };
    case "CreateLFTag":
      return { kind: "ignore", reason: "a new LF-tag is assigned to nothing and named by no policy yet" };
    case "UpdateLFTag":
      return list(field(params, "tagValuesToDelete")).length === 0 && params !== undefined
        ? { kind: "ignore", reason: "UpdateLFTag only added allowed values" }
        : { kind: "full", reason: "UpdateLFTag removed values: every resource holding them may change" };
    case "CreateTable":
    case "UpdateTable":
      return tableInputReads(params, name);
    case "DeleteTable":
      return tableReads(text(field(params, "databaseName")), [text(field(params, "name"))], name);
    case "BatchDeleteTable":
      return tableReads(text(field(params, "databaseName")), list(field(params, "tablesToDelete")).map(text), name);
    default:
      return { kind: "full", reason: `${name} can change grants anywhere` };
  }
}

function tableReads(database: string | undefined, tables: readonly (string | undefined)[], name: string): EventReads {
  if (database === undefined || tables.length === 0 || tables.some((t) => t === undefined)) return { kind: "full", reason: `${name} does not name its tables` };
  return { kind: "read", reads: tables.map((table) => ({ kind: "table", database, table: table! })) };
}

function tableInputReads(params: unknown, name: string): EventReads {
  const input = field(params, "tableInput");
  const database = text(field(params, "databaseName"));
  const table = text(field(input, "name"));
  if (database === undefined || table === undefined) return { kind: "full", reason: `${name} does not name its table` };
  const descriptor = field(input, "storageDescriptor");
  const declared = [...list(field(descriptor, "columns")), ...list(field(input, "partitionKeys"))].map((c) => text(field(c, "name")));
  const columns = descriptor === undefined || declared.some((c) => c === undefined) ? undefined : (declared as string[]);
  return { kind: "read", reads: [{ kind: "table", database, table, ...(name === "UpdateTable" && columns !== undefined ? { columns } : {}) }] };
}

function resourceReads(resource: unknown, name: string): EventReads {
  const db = field(resource, "database");
  const dbName = text(field(db, "name"));
  if (dbName !== undefined) return { kind: "read", reads: [{ kind: "database", database: dbName }] };
  const table = field(resource, "table") ?? field(resource, "tableWithColumns");
  const database = text(field(table, "databaseName"));
  const tableName = text(field(table, "name"));
  if (database !== undefined && tableName !== undefined) return { kind: "read", reads: [{ kind: "table", database, table: tableName }] };
  return { kind: "full", reason: `${name} names no single database or table (a table wildcard, or an unknown shape)` };
}

/** Grants on named resources are not this service's business (it follows tag policies only). */
function permissionReads(params: unknown, name: string): EventReads {
  const entries = name.startsWith("Batch") ? list(field(params, "entries")) : [params];
  const resources = entries.map((e) => field(e, "resource"));
  if (resources.length > 0 && resources.every((r) => r !== undefined && field(r, "lFTagPolicy") === undefined && field(r, "LFTagPolicy") === undefined)) {
    return { kind: "ignore", reason: `${name} on named resources, not on LF-tag policies` };
  }
  return { kind: "read", reads: [{ kind: "policies" }] };
}

function glueStateChangeReads(event: EventEnvelope): EventReads {
  const detail = event.detail;
  const change = text(field(detail, "typeOfChange")) ?? "";
  if (PARTITION_CHANGES.has(change)) return { kind: "ignore", reason: `${change}: partitions only` };
  const database = text(field(detail, "databaseName"));
  const table = text(field(detail, "tableName"));
  if (database !== undefined && table !== undefined && ["CreateTable", "UpdateTable", "DeleteTable"].includes(change)) {
    return { kind: "read", reads: [{ kind: "table", database, table }] };
  }
  const changed = list(field(detail, "changedTables")).map(text);
  if (database !== undefined && changed.length > 0 && /Table$/.test(change)) return tableReads(database, changed, change);
  return { kind: "full", reason: `Glue ${event["detail-type"]} ${change || "(no typeOfChange)"}` };
}
