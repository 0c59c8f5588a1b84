import { describe, expect, it } from "vitest";
import { eventReads } from "../../src/server/event-reads.js";
import type { EventEnvelope } from "../../src/server/events.js";
import { cloudTrailEvent } from "./harness.js";

function cloudTrail(eventName: string, requestParameters: unknown, source = "aws.lakeformation"): EventEnvelope {
  return cloudTrailEvent(eventName, { source, requestParameters });
}

function glueNative(detail: Record<string, unknown>): EventEnvelope {
  return { ...cloudTrail("", {}, "aws.glue"), "detail-type": "Glue Data Catalog Table State Change", detail };
}

describe("eventReads: what an event makes an incremental run re-read", () => {
  it.each([
    ["AddLFTagsToResource", { resource: { table: { databaseName: "sales", name: "orders" } } }, { kind: "read", reads: [{ kind: "table", database: "sales", table: "orders" }] }],
    ["RemoveLFTagsFromResource", { resource: { tableWithColumns: { databaseName: "sales", name: "orders", columnNames: ["email"] } } }, { kind: "read", reads: [{ kind: "table", database: "sales", table: "orders" }] }],
    ["AddLFTagsToResource", { Resource: { Database: { Name: "sales" } } }, { kind: "read", reads: [{ kind: "database", database: "sales" }] }],
    ["AddLFTagsToResource", { resource: { table: { databaseName: "sales", tableWildcard: {} } } }, { kind: "full", reason: "AddLFTagsToResource names no single database or table (a table wildcard, or an unknown shape)" }],
    ["GrantPermissions", { resource: { lFTagPolicy: { resourceType: "TABLE", expressionName: "x" } } }, { kind: "read", reads: [{ kind: "policies" }] }],
    ["RevokePermissions", { resource: { table: { databaseName: "sales", name: "orders" } } }, { kind: "ignore", reason: "RevokePermissions on named resources, not on LF-tag policies" }],
    ["BatchGrantPermissions", { entries: [{ resource: { table: {} } }, { resource: { lFTagPolicy: {} } }] }, { kind: "read", reads: [{ kind: "policies" }] }],
    ["UpdateLFTagExpression", { name: "x" }, { kind: "read", reads: [{ kind: "policies" }] }],
    ["CreateLFTag", { tagKey: "k", tagValues: ["a"] }, { kind: "ignore", reason: "a new LF-tag is assigned to nothing and named by no policy yet" }],
    ["UpdateLFTag", { tagKey: "k", tagValuesToAdd: ["b"] }, { kind: "ignore", reason: "UpdateLFTag only added allowed values" }],
    ["UpdateLFTag", { tagKey: "k", tagValuesToDelete: ["b"] }, { kind: "full", reason: "UpdateLFTag removed values: every resource holding them may change" }],
    ["DeleteLFTag", { tagKey: "k" }, { kind: "full", reason: "DeleteLFTag can change grants anywhere" }],
    ["PutDataLakeSettings", {}, { kind: "full", reason: "PutDataLakeSettings can change grants anywhere" }],
  ])("%s %j", (name, params, expected) => {
    expect(eventReads(cloudTrail(name, params), name)).toEqual(expected);
  });

  it("Glue UpdateTable carries the columns it sets (columns, then partition keys) so an unchanged shape needs no read", () => {
    const params = { databaseName: "sales", tableInput: { name: "orders", storageDescriptor: { columns: [{ name: "id" }, { name: "email" }] }, partitionKeys: [{ name: "dt" }] } };
    expect(eventReads(cloudTrail("UpdateTable", params, "aws.glue"), "UpdateTable")).toEqual({
      kind: "read",
      reads: [{ kind: "table", database: "sales", table: "orders", columns: ["id", "email", "dt"] }],
    });
    expect(eventReads(cloudTrail("DeleteTable", { databaseName: "sales", name: "orders" }, "aws.glue"), "DeleteTable")).toEqual({
      kind: "read",
      reads: [{ kind: "table", database: "sales", table: "orders" }],
    });
    expect(eventReads(cloudTrail("BatchDeleteTable", { databaseName: "sales", tablesToDelete: ["a", "b"] }, "aws.glue"), "BatchDeleteTable")).toMatchObject({
      kind: "read",
      reads: [{ table: "a" }, { table: "b" }],
    });
  });

  it("ignores partition-only Glue state changes and re-reads a table the native event names", () => {
    expect(eventReads(glueNative({ databaseName: "sales", tableName: "orders", typeOfChange: "BatchCreatePartition", changedPartitions: ["[2024]"] }), "x")).toEqual({
      kind: "ignore",
      reason: "BatchCreatePartition: partitions only",
    });
    expect(eventReads(glueNative({ databaseName: "sales", tableName: "orders", typeOfChange: "UpdateTable" }), "x")).toEqual({
      kind: "read",
      reads: [{ kind: "table", database: "sales", table: "orders" }],
    });
    expect(eventReads(glueNative({ databaseName: "sales", typeOfChange: "CreateDatabase" }), "x").kind).toBe("full");
  });
});
