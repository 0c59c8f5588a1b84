/**
 * The aws source reads, through the real SDK clients and the local Lake Formation/Glue endpoint,
 * exactly the catalog the endpoint serves, with the calls a full read costs: one GetResourceLFTags
 * per database and per table, Glue pages of 100, three ListPermissions resource types.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsSource } from "../../src/catalog/aws-source.js";
import { compareStrings } from "../../src/core/grants.js";
import { generateCatalog } from "../../bench/generate.js";
import { awsSourceConfig } from "../support/aws-catalog.js";
import { startCatalogEndpoint, type CatalogEndpoint } from "../support/aws-catalog-endpoint.js";

const catalog = generateCatalog({ databases: 3, tables: 250, columnsPerTable: 4, policies: 30, principals: 10 });
const savedEnv = { ...process.env };
let endpoint: CatalogEndpoint;

beforeAll(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_EC2_METADATA_DISABLED: "true" });
  endpoint = await startCatalogEndpoint(catalog);
});

afterAll(async () => {
  process.env = savedEnv;
  await endpoint.close();
});

const source = () => createAwsSource(awsSourceConfig({ catalogId: catalog.catalogId, lakeFormationEndpoint: endpoint.url, glueEndpoint: endpoint.url }));
/** Policies as the source reports them: expression keys, values and permissions sorted. */
const sortedPolicies = (policies: typeof catalog.policies) =>
  policies
    .map((p) =>
      JSON.stringify({
        ...p,
        ...(p.expression === undefined
          ? {}
          : { expression: Object.fromEntries(Object.keys(p.expression).sort(compareStrings).map((k) => [k, [...p.expression![k]!].sort(compareStrings)])) }),
        permissions: [...p.permissions].sort(compareStrings),
      }),
    )
    .sort(compareStrings);

describe("the local Lake Formation/Glue catalog endpoint", () => {
  it("serves a catalog the source reads back exactly, at one LF call per table and database plus a few pages", async () => {
    endpoint.resetCounts();
    const { snapshot, warnings } = await source().read();
    expect(warnings).toEqual([]);
    expect(snapshot.databases).toEqual(catalog.databases);
    // The source sorts keys and values (lf-tags.ts readTagOntology).
    expect(snapshot.tags).toEqual(Object.fromEntries(Object.entries(catalog.tags).map(([k, v]) => [k, [...v].sort(compareStrings)])));
    expect(snapshot.expressions).toEqual(catalog.expressions);
    expect(sortedPolicies(snapshot.policies)).toEqual(sortedPolicies(catalog.policies));
    const perDatabase = catalog.databases.map((d) => Math.ceil(d.tables.length / 100));
    expect(Object.fromEntries(endpoint.counts)).toEqual({
      GetDatabases: 1,
      GetTables: perDatabase.reduce((a, b) => a + b, 0),
      ListLFTags: 1,
      ListPermissions: 3,
      ListLFTagExpressions: 1,
      GetResourceLFTags: 3 + 250,
    });
    expect(endpoint.totals()).toEqual({ lakeFormation: 5 + 253, glue: 1 + perDatabase.reduce((a, b) => a + b, 0), throttled: 0 });
  });

  it("changes underneath: a tag assigned, a policy granted and a table dropped show in the next read", async () => {
    const [db] = catalog.databases;
    endpoint.assignTableTags(db!.name, db!.tables[0]!.name, { access: "access_4" });
    endpoint.grantPolicy({ principal: "arn:aws:iam::123456789012:role/new", resourceType: "TABLE", expression: { access: ["access_4"] }, permissions: ["SELECT"] });
    endpoint.dropTable(db!.name, db!.tables[1]!.name);
    const { snapshot } = await source().read();
    const tables = snapshot.databases[0]!.tables;
    expect(tables[0]?.tags.access).toBe("access_4");
    expect(tables.map((t) => t.name)).not.toContain(db!.tables[1]!.name);
    expect(snapshot.policies.filter((p) => p.principal.endsWith("role/new"))).toHaveLength(1);
  });
});
