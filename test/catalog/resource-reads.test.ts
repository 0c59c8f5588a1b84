import { EntityNotFoundException as GlueNotFound, GetDatabaseCommand, GetDatabasesCommand, GetTableCommand, GetTablesCommand } from "@aws-sdk/client-glue";
import { AccessDeniedException, EntityNotFoundException, GetResourceLFTagsCommand } from "@aws-sdk/client-lakeformation";
import { describe, expect, it } from "vitest";
import { createAwsSource } from "../../src/catalog/aws-source.js";
import { configSchema } from "../../src/config/schema.js";
import { SyncError } from "../../src/errors.js";
import { awsDoubles, awsSourceConfig, database, lfTagPairs, table, type AwsDoubles } from "../support/aws-catalog.js";

const notFound = (what: string) => new EntityNotFoundException({ message: `${what} not found`, $metadata: {} });
const glueNotFound = (what: string) => new GlueNotFound({ message: `${what} not found`, $metadata: {} });

function sourceOver(d: AwsDoubles) {
  return createAwsSource(awsSourceConfig(), { lakeFormation: d.lakeFormation, glue: d.glue });
}

/** sales.orders and sales.gone; GetResourceLFTags on sales.gone says the table does not exist. */
function raceAccount(d: AwsDoubles, glueStillListsIt: boolean) {
  d.glueMock.on(GetDatabasesCommand).resolves({ DatabaseList: [database("sales")] });
  d.glueMock.on(GetTablesCommand).resolves({ TableList: [table("sales", "gone", ["id"]), table("sales", "orders", ["id"])] });
  d.glueMock.on(GetTableCommand, { Name: "gone" }).callsFake(() => (glueStillListsIt ? Promise.resolve({ Table: table("sales", "gone", ["id"]) }) : Promise.reject(glueNotFound("gone"))));
  d.lf.on(GetResourceLFTagsCommand, { Resource: { Table: { CatalogId: "123456789012", DatabaseName: "sales", Name: "gone" } } }).rejects(notFound("table gone"));
}

describe("a catalog that moves while it is read", () => {
  it("skips a table dropped between GetTables and GetResourceLFTags, with a warning, once Glue confirms it is gone", async () => {
    const d = awsDoubles();
    raceAccount(d, false);
    const { snapshot, warnings } = await sourceOver(d).read();
    expect(snapshot.databases[0]!.tables.map((t) => t.name)).toEqual(["orders"]);
    expect(warnings).toContain("skipped table sales.gone: dropped while the catalog was read (Glue no longer lists it)");
  });

  it("fails the read (SOURCE_INCOMPLETE) when Glue still lists the table Lake Formation says is missing", async () => {
    const d = awsDoubles();
    raceAccount(d, true);
    const error = await sourceOver(d).read().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe("SOURCE_INCOMPLETE");
  });

  it("fails the read on any other error of GetResourceLFTags (a real failure applies nothing)", async () => {
    const d = awsDoubles();
    raceAccount(d, false);
    d.lf.on(GetResourceLFTagsCommand).rejects(new AccessDeniedException({ message: "denied", $metadata: {} }));
    const error = await sourceOver(d).read().then(() => null, (e: unknown) => e);
    expect((error as SyncError).code).toBe("SOURCE_INCOMPLETE");
  });
});

describe("single-resource reads (incremental runs)", () => {
  it("reads one table: Glue columns then partition keys, assigned table and column tags lower-cased", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetTableCommand).resolves({ Table: table("sales", "orders", ["id", "email"], ["dt"]) });
    d.assignments.set("sales.orders", { LFTagsOnTable: lfTagPairs({ Access: "Public" }), LFTagsOnColumns: [{ Name: "email", LFTags: lfTagPairs({ PII: "True" }) }] });
    expect(await sourceOver(d).resources!.readTable("sales", "orders")).toEqual({
      name: "orders",
      tags: { access: "public" },
      columns: [
        { name: "id", tags: {} },
        { name: "email", tags: { pii: "true" } },
        { name: "dt", tags: {} },
      ],
    });
  });

  it("reads a dropped table as null, and a database's tags as null once it is gone", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetTableCommand).rejects(glueNotFound("orders"));
    d.glueMock.on(GetDatabaseCommand).rejects(glueNotFound("sales"));
    expect(await sourceOver(d).resources!.readTable("sales", "orders")).toBeNull();
    expect(await sourceOver(d).resources!.readDatabaseTags("sales")).toBeNull();
  });

  it("reads a database's assigned tags", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetDatabaseCommand).resolves({ Database: database("sales") });
    d.assignments.set("sales", { LFTagOnDatabase: lfTagPairs({ Access: "Internal" }) });
    expect(await sourceOver(d).resources!.readDatabaseTags("sales")).toEqual({ access: "internal" });
  });

  it("throws SOURCE_INCOMPLETE when a single read really fails", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetTableCommand).rejects(new Error("connection reset"));
    const error = await sourceOver(d).resources!.readTable("sales", "orders").then(() => null, (e: unknown) => e);
    expect((error as SyncError).code).toBe("SOURCE_INCOMPLETE");
  });
});

describe("source.catalogId", () => {
  const parse = (catalogId: string) => configSchema.safeParse({ source: { kind: "aws", catalogId }, target: { kind: "pglite" } });
  it.each(["123456789012", "123456789012:s3tablescatalog/analytics", "123456789012:federated_catalog"])("accepts %s", (id) => {
    expect(parse(id).success).toBe(true);
  });
  it.each(["12345", "123456789012:", "arn:aws:glue:eu-west-1:123456789012:catalog", "123456789012:a b"])("rejects %s, naming the field", (id) => {
    const result = parse(id);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues[0]?.path)).toBe('["source","catalogId"]');
  });
});
