import { GetDatabasesCommand, GetTablesCommand } from "@aws-sdk/client-glue";
import {
  AccessDeniedException,
  GetLFTagExpressionCommand,
  GetResourceLFTagsCommand,
  ListLFTagExpressionsCommand,
  ListLFTagsCommand,
  ListPermissionsCommand,
} from "@aws-sdk/client-lakeformation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsSource } from "../../src/catalog/aws-source.js";
import type { CatalogSnapshot } from "../../src/catalog/model.js";
import { SyncError } from "../../src/errors.js";
import {
  ACCOUNT,
  awsDoubles,
  awsSourceConfig,
  database,
  lfTagPairs,
  lfTags,
  table,
  tagPolicyGrant,
  type AwsDoubles,
} from "../support/aws-catalog.js";
import { startFakeAwsEndpoint, type FakeAwsEndpoint } from "../support/aws-endpoint.js";

const ANALYST = `arn:aws:iam::${ACCOUNT}:role/analyst`;

function sourceOver(doubles: AwsDoubles, overrides: Parameters<typeof awsSourceConfig>[0] = {}) {
  return createAwsSource(awsSourceConfig(overrides), { lakeFormation: doubles.lakeFormation, glue: doubles.glue });
}

async function readFailure(read: Promise<unknown>): Promise<SyncError> {
  const outcome = await read.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected the read to fail, got ${JSON.stringify(outcome.result)}`);
  expect(outcome.error).toBeInstanceOf(SyncError);
  return outcome.error as SyncError;
}

/** A small account: two databases, tags at every level, a named expression, two policies. */
function salesAccount(d: AwsDoubles): void {
  d.glueMock.on(GetDatabasesCommand).resolves({ DatabaseList: [database("sales"), database("hr")] });
  d.glueMock.on(GetTablesCommand, { DatabaseName: "sales" }).resolves({
    TableList: [table("sales", "orders", ["order_id", "email"], ["dt"]), table("sales", "customers", ["id", "name"])],
  });
  d.glueMock.on(GetTablesCommand, { DatabaseName: "hr" }).resolves({ TableList: [table("hr", "staff", ["id", "salary"])] });
  d.lf.on(ListLFTagsCommand).resolves({
    LFTags: [
      { CatalogId: ACCOUNT, TagKey: "Access", TagValues: ["Public", "Internal", "Restricted"] },
      { CatalogId: ACCOUNT, TagKey: "PII", TagValues: ["true", "false"] },
    ],
  });
  d.assignments.set("sales", { LFTagOnDatabase: lfTagPairs({ Access: "Internal" }) });
  d.assignments.set("sales.orders", {
    LFTagsOnTable: lfTagPairs({ Access: "Public" }),
    LFTagsOnColumns: [
      { Name: "email", LFTags: lfTagPairs({ PII: "TRUE" }) },
      { Name: "dt", LFTags: lfTagPairs({ Access: "Restricted" }) },
      { Name: "order_id", LFTags: [] },
    ],
  });
  d.lf.on(ListLFTagExpressionsCommand).resolves({
    LFTagExpressions: [{ Name: "public_data", CatalogId: ACCOUNT, Description: "anything public", Expression: lfTags({ Access: ["Public"] }) }],
  });
  d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" }).resolves({
    PrincipalResourcePermissions: [
      tagPolicyGrant(ANALYST, "TABLE", { Access: ["Public", "Internal"], PII: ["false"] }, ["SELECT"]),
      tagPolicyGrant(ANALYST, "TABLE", { name: "public_data" }, ["SELECT", "DESCRIBE"]),
    ],
  });
  d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_DATABASE" }).resolves({
    PrincipalResourcePermissions: [tagPolicyGrant(ANALYST, "DATABASE", { Access: ["Internal"] }, ["DESCRIBE"])],
  });
}

describe("aws source: reading a whole account", () => {
  it("returns databases, tables, columns (partition keys last), assigned tags per level and policies, lower-cased", async () => {
    const d = awsDoubles();
    salesAccount(d);
    const { snapshot, warnings } = await sourceOver(d).read();
    const expected: CatalogSnapshot = {
      catalogId: ACCOUNT,
      tags: { access: ["internal", "public", "restricted"], pii: ["false", "true"] },
      databases: [
        {
          name: "hr",
          tags: {},
          tables: [{ name: "staff", tags: {}, columns: [{ name: "id", tags: {} }, { name: "salary", tags: {} }] }],
        },
        {
          name: "sales",
          tags: { access: "internal" },
          tables: [
            { name: "customers", tags: {}, columns: [{ name: "id", tags: {} }, { name: "name", tags: {} }] },
            {
              name: "orders",
              tags: { access: "public" },
              columns: [
                { name: "order_id", tags: {} },
                { name: "email", tags: { pii: "true" } },
                { name: "dt", tags: { access: "restricted" } },
              ],
            },
          ],
        },
      ],
      expressions: { public_data: { access: ["public"] } },
      policies: [
        { principal: ANALYST, resourceType: "DATABASE", expression: { access: ["internal"] }, permissions: ["DESCRIBE"] },
        {
          principal: ANALYST,
          resourceType: "TABLE",
          expression: { access: ["internal", "public"], pii: ["false"] },
          permissions: ["SELECT"],
        },
        { principal: ANALYST, resourceType: "TABLE", expressionName: "public_data", permissions: ["DESCRIBE", "SELECT"] },
      ],
    };
    expect(snapshot).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  it("asks for assigned tags (ShowAssignedLFTags) per database and per table, and passes the CatalogId everywhere", async () => {
    const d = awsDoubles();
    salesAccount(d);
    await sourceOver(d).read();
    const tagCalls = d.lf.commandCalls(GetResourceLFTagsCommand).map((c) => c.args[0].input);
    expect(tagCalls).toHaveLength(5);
    for (const input of tagCalls) expect(input).toMatchObject({ CatalogId: ACCOUNT, ShowAssignedLFTags: true });
    expect(tagCalls).toContainEqual(
      expect.objectContaining({ Resource: { Database: { CatalogId: ACCOUNT, Name: "sales" } } }),
    );
    expect(tagCalls).toContainEqual(
      expect.objectContaining({ Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: "sales", Name: "orders" } } }),
    );
    const everyInput = [
      ...d.glueMock.calls().map((c) => c.args[0].input),
      ...d.lf.calls().map((c) => c.args[0].input),
    ] as { CatalogId?: string }[];
    for (const input of everyInput) expect(input.CatalogId).toBe(ACCOUNT);
    const types = d.lf.commandCalls(ListPermissionsCommand).map((c) => c.args[0].input.ResourceType);
    expect(types.sort()).toEqual(["LF_TAG_POLICY", "LF_TAG_POLICY_DATABASE", "LF_TAG_POLICY_TABLE"]);
  });

  it("gives byte-identical snapshots for two reads of the same account answered in a different order", async () => {
    const first = awsDoubles();
    salesAccount(first);
    const second = awsDoubles();
    salesAccount(second);
    second.glueMock.on(GetDatabasesCommand).resolves({ DatabaseList: [database("hr"), database("sales")] });
    second.glueMock.on(GetTablesCommand, { DatabaseName: "sales" }).resolves({
      TableList: [table("sales", "customers", ["id", "name"]), table("sales", "orders", ["order_id", "email"], ["dt"])],
    });
    second.lf.on(ListLFTagsCommand).resolves({
      LFTags: [
        { CatalogId: ACCOUNT, TagKey: "pii", TagValues: ["false", "true"] },
        { CatalogId: ACCOUNT, TagKey: "access", TagValues: ["restricted", "public", "internal"] },
      ],
    });
    second.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" }).resolves({
      PrincipalResourcePermissions: [
        tagPolicyGrant(ANALYST, "TABLE", { name: "public_data" }, ["DESCRIBE", "SELECT"]),
        tagPolicyGrant(ANALYST, "TABLE", { PII: ["false"], Access: ["Internal", "Public"] }, ["SELECT"]),
      ],
    });
    const a = await sourceOver(first).read();
    const b = await sourceOver(second).read();
    expect(JSON.stringify(b.snapshot)).toBe(JSON.stringify(a.snapshot));
  });

  it("returns an empty catalog with its policies without complaint (the planner's safety rule judges it)", async () => {
    const d = awsDoubles();
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY" }).resolves({
      PrincipalResourcePermissions: [tagPolicyGrant(ANALYST, "TABLE", { access: ["public"] }, ["SELECT"])],
    });
    const { snapshot, warnings } = await sourceOver(d, { catalogId: undefined }).read();
    expect(snapshot).toEqual({
      tags: {},
      databases: [],
      expressions: {},
      policies: [{ principal: ANALYST, resourceType: "TABLE", expression: { access: ["public"] }, permissions: ["SELECT"] }],
    });
    expect(warnings).toEqual([]);
    expect(d.glueMock.commandCalls(GetDatabasesCommand)[0]?.args[0].input.CatalogId).toBeUndefined();
  });
  it("without a configured catalogId, names the account Glue reports (the mapper maps only that account's principals)", async () => {
    const d = awsDoubles();
    salesAccount(d);
    const { snapshot } = await sourceOver(d, { catalogId: undefined }).read();
    expect(snapshot.catalogId).toBe(ACCOUNT);
  });
});

describe("aws source: policies", () => {
  it("resolves named expressions: the name wins over the empty inline list, and a name missing from the list is fetched", async () => {
    const d = awsDoubles();
    d.lf.on(ListLFTagExpressionsCommand).resolves({
      LFTagExpressions: [{ Name: "public_data", CatalogId: ACCOUNT, Expression: lfTags({ Access: ["Public"] }) }],
    });
    d.lf.on(GetLFTagExpressionCommand, { Name: "Finance_Only" }).resolves({
      Name: "Finance_Only",
      CatalogId: ACCOUNT,
      Expression: lfTags({ Team: ["Finance"], Access: ["Internal", "Public"] }),
    });
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" }).resolves({
      PrincipalResourcePermissions: [
        tagPolicyGrant(ANALYST, "TABLE", { name: "public_data" }, ["SELECT"]),
        tagPolicyGrant(ANALYST, "TABLE", { name: "Finance_Only" }, ["SELECT"]),
        // Neither a name nor an inline list: never "match everything" (aws-facts trap 3).
        tagPolicyGrant(ANALYST, "DATABASE", {}, ["DESCRIBE"]),
      ],
    });
    const { snapshot, warnings } = await sourceOver(d).read();
    expect(snapshot.policies).toEqual([
      { principal: ANALYST, resourceType: "TABLE", expressionName: "Finance_Only", permissions: ["SELECT"] },
      { principal: ANALYST, resourceType: "TABLE", expressionName: "public_data", permissions: ["SELECT"] },
    ]);
    expect(snapshot.policies.every((p) => p.expression === undefined)).toBe(true);
    expect(snapshot.expressions).toEqual({
      Finance_Only: { access: ["internal", "public"], team: ["finance"] },
      public_data: { access: ["public"] },
    });
    expect(d.lf.commandCalls(GetLFTagExpressionCommand).map((c) => c.args[0].input)).toEqual([{ CatalogId: ACCOUNT, Name: "Finance_Only" }]);
    expect(warnings).toEqual([expect.stringMatching(/^skipped tag policy .* neither an expression nor an expression name$/)]);
  });

  it("fails when a policy names an expression that cannot be fetched", async () => {
    const d = awsDoubles();
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY" }).resolves({
      PrincipalResourcePermissions: [tagPolicyGrant(ANALYST, "TABLE", { name: "gone" }, ["SELECT"])],
    });
    const error = await readFailure(sourceOver(d).read());
    expect(error.code).toBe("SOURCE_INCOMPLETE");
    expect(error.message).toContain("lakeformation:GetLFTagExpression expression gone failed");
  });

  it("ignores Table/TableWithColumns entries of a split grant and unions a tag policy that comes back in pieces", async () => {
    const d = awsDoubles();
    const expression = { Access: ["Public"] };
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" }).resolves({
      PrincipalResourcePermissions: [
        // One named-resource grant, returned as two entries (aws-facts §1.5): not tag policies.
        {
          Principal: { DataLakePrincipalIdentifier: ANALYST },
          Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: "sales", Name: "orders" } },
          Permissions: ["DESCRIBE"],
          PermissionsWithGrantOption: [],
        },
        {
          Principal: { DataLakePrincipalIdentifier: ANALYST },
          Resource: {
            TableWithColumns: { CatalogId: ACCOUNT, DatabaseName: "sales", Name: "orders", ColumnWildcard: { ExcludedColumnNames: ["email"] } },
          },
          Permissions: ["SELECT"],
          PermissionsWithGrantOption: [],
        },
        // One tag policy, split over two entries with different permissions.
        tagPolicyGrant(ANALYST, "TABLE", expression, ["SELECT"]),
        tagPolicyGrant(ANALYST, "TABLE", expression, ["DESCRIBE"], { PermissionsWithGrantOption: ["DESCRIBE"] }),
      ],
    });
    // The same policy also comes back under LF_TAG_POLICY (trap 2), with its keys in upper case.
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY" }).resolves({
      PrincipalResourcePermissions: [tagPolicyGrant(ANALYST, "TABLE", { ACCESS: ["PUBLIC"] }, ["INSERT", "SELECT"])],
    });
    const { snapshot, warnings } = await sourceOver(d).read();
    expect(snapshot.policies).toEqual([
      {
        principal: ANALYST,
        resourceType: "TABLE",
        expression: { access: ["public"] },
        permissions: ["DESCRIBE", "INSERT", "SELECT"],
        permissionsWithGrantOption: ["DESCRIBE"],
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it("keeps DATABASE and TABLE policies on the same expression apart", async () => {
    const d = awsDoubles();
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY" }).resolves({
      PrincipalResourcePermissions: [
        tagPolicyGrant(ANALYST, "DATABASE", { access: ["public"] }, ["DESCRIBE"]),
        tagPolicyGrant(ANALYST, "TABLE", { access: ["public"] }, ["SELECT"]),
      ],
    });
    const { snapshot } = await sourceOver(d).read();
    expect(snapshot.policies.map((p) => [p.resourceType, p.permissions])).toEqual([
      ["DATABASE", ["DESCRIBE"]],
      ["TABLE", ["SELECT"]],
    ]);
  });

  it("carries grant options and Cedar conditions into the policy (the core warns about them)", async () => {
    const d = awsDoubles();
    const cedar = 'context.iam.principalTags.hasTag("team") && context.iam.principalTags.getTag("team") == "finance"';
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" }).resolves({
      PrincipalResourcePermissions: [
        tagPolicyGrant(ANALYST, "TABLE", { access: ["public"] }, ["SELECT"], { PermissionsWithGrantOption: ["SELECT"] }),
        tagPolicyGrant(`arn:aws:iam::${ACCOUNT}:role/abac`, "TABLE", { access: ["public"] }, ["SELECT"], { Condition: { Expression: cedar } }),
      ],
    });
    const { snapshot } = await sourceOver(d).read();
    expect(snapshot.policies).toEqual([
      { principal: `arn:aws:iam::${ACCOUNT}:role/abac`, resourceType: "TABLE", expression: { access: ["public"] }, permissions: ["SELECT"], condition: cedar },
      { principal: ANALYST, resourceType: "TABLE", expression: { access: ["public"] }, permissions: ["SELECT"], permissionsWithGrantOption: ["SELECT"] },
    ]);
  });

  it("passes principals of every kind through verbatim (aws-facts §2.6)", async () => {
    const principals = [
      `arn:aws:iam::${ACCOUNT}:role/data/Analyst-Team`,
      `arn:aws:iam::${ACCOUNT}:user/Alice`,
      `arn:aws:iam::${ACCOUNT}:saml-provider/Okta:user/alice@example.com`,
      `arn:aws:iam::${ACCOUNT}:saml-provider/Okta:group/Finance`,
      `arn:aws:quicksight:eu-west-1:${ACCOUNT}:group/default/BI-Readers`,
      "arn:aws:identitystore:::user/9067b2f3a4-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901",
      "arn:aws:identitystore:::group/9067b2f3a4-aaaabbbb-cccc-dddd-eeee-ffff00001111",
      "IAM_ALLOWED_PRINCIPALS",
      `${ACCOUNT}:IAMPrincipals`,
      "111122223333",
      "arn:aws:organizations::111122223333:organization/o-abcde12345",
      "arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-cdefgh34",
    ];
    const d = awsDoubles();
    d.lf.on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" }).resolves({
      PrincipalResourcePermissions: principals.map((p) => tagPolicyGrant(p, "TABLE", { access: ["public"] }, ["SELECT"])),
    });
    const { snapshot } = await sourceOver(d).read();
    expect(snapshot.policies.map((p) => p.principal).sort()).toEqual([...principals].sort());
  });
});

describe("aws source: Glue shapes", () => {
  it("skips resource links with a warning each and never reads their tables or tags", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetDatabasesCommand).resolves({
      DatabaseList: [
        database("sales"),
        database("shared_sales", { TargetDatabase: { CatalogId: "999988887777", DatabaseName: "sales", Region: "us-east-1" } }),
      ],
    });
    d.glueMock.on(GetTablesCommand, { DatabaseName: "sales" }).resolves({
      TableList: [
        table("sales", "orders", ["id"]),
        { Name: "partner_orders", DatabaseName: "sales", CatalogId: ACCOUNT, TargetTable: { CatalogId: "999988887777", DatabaseName: "p", Name: "orders", Region: "us-east-1" } },
      ],
    });
    const { snapshot, warnings } = await sourceOver(d).read();
    expect(snapshot.databases.map((db) => [db.name, db.tables.map((t) => t.name)])).toEqual([["sales", ["orders"]]]);
    expect(warnings).toEqual([
      "skipped Glue database shared_sales: a resource link to 999988887777:us-east-1:sales (its tags live on the target)",
      "skipped Glue table sales.partner_orders: a resource link to 999988887777:us-east-1:p.orders (its tags live on the target)",
    ]);
    expect(d.glueMock.commandCalls(GetTablesCommand).map((c) => c.args[0].input.DatabaseName)).toEqual(["sales"]);
    const tagged = d.lf.commandCalls(GetResourceLFTagsCommand).map((c) => c.args[0].input.Resource);
    expect(tagged).toEqual([
      { Database: { CatalogId: ACCOUNT, Name: "sales" } },
      { Table: { CatalogId: ACCOUNT, DatabaseName: "sales", Name: "orders" } },
    ]);
  });

  it("appends partition keys to the columns and reads their tags from LFTagsOnColumns", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetDatabasesCommand).resolves({ DatabaseList: [database("logs")] });
    d.glueMock.on(GetTablesCommand).resolves({ TableList: [table("logs", "events", ["id", "payload"], ["year", "region"])] });
    d.assignments.set("logs.events", {
      LFTagsOnTable: [],
      LFTagsOnColumns: [
        { Name: "region", LFTags: lfTagPairs({ Geo: "EU" }) },
        { Name: "dropped_column", LFTags: lfTagPairs({ PII: "true" }) },
      ],
    });
    const { snapshot, warnings } = await sourceOver(d).read();
    expect(snapshot.databases[0]?.tables[0]?.columns).toEqual([
      { name: "id", tags: {} },
      { name: "payload", tags: {} },
      { name: "year", tags: {} },
      { name: "region", tags: { geo: "eu" } },
    ]);
    expect(warnings).toEqual(["ignored tags of column logs.events.dropped_column: Glue lists no such column"]);
  });
});

describe("aws source: paging", () => {
  it("follows NextToken to the end, through empty pages that still carry a token", async () => {
    const d = awsDoubles();
    d.glueMock
      .on(GetDatabasesCommand)
      .resolvesOnce({ DatabaseList: [], NextToken: "db-2" })
      .resolvesOnce({ DatabaseList: [database("a")], NextToken: "db-3" })
      .resolvesOnce({ DatabaseList: [database("b")] });
    d.glueMock
      .on(GetTablesCommand, { DatabaseName: "a" })
      .resolvesOnce({ TableList: [], NextToken: "t-2" })
      .resolvesOnce({ TableList: [table("a", "t1", ["c"])], NextToken: "t-3" })
      .resolvesOnce({ TableList: [], NextToken: "t-4" })
      .resolvesOnce({ TableList: [table("a", "t2", ["c"])] });
    d.lf
      .on(ListLFTagsCommand)
      .resolvesOnce({ LFTags: [], NextToken: "tag-2" })
      .resolvesOnce({ LFTags: lfTagPairs({ Access: ["Public"] }), NextToken: "tag-3" })
      .resolvesOnce({ LFTags: lfTagPairs({ Team: ["Finance"] }) });
    d.lf
      .on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" })
      .resolvesOnce({ PrincipalResourcePermissions: [], NextToken: "p-2" })
      .resolvesOnce({ PrincipalResourcePermissions: [], NextToken: "p-3" })
      .resolvesOnce({ PrincipalResourcePermissions: [tagPolicyGrant(ANALYST, "TABLE", { team: ["finance"] }, ["SELECT"])] });
    d.lf
      .on(ListLFTagExpressionsCommand)
      .resolvesOnce({ LFTagExpressions: [], NextToken: "e-2" })
      .resolvesOnce({ LFTagExpressions: [{ Name: "finance", Expression: lfTags({ Team: ["Finance"] }) }] });

    const { snapshot } = await sourceOver(d).read();

    expect(snapshot.databases.map((db) => [db.name, db.tables.map((t) => t.name)])).toEqual([
      ["a", ["t1", "t2"]],
      ["b", []],
    ]);
    expect(snapshot.tags).toEqual({ access: ["public"], team: ["finance"] });
    expect(snapshot.policies).toHaveLength(1);
    expect(snapshot.expressions).toEqual({ finance: { team: ["finance"] } });
    expect(d.glueMock.commandCalls(GetDatabasesCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, "db-2", "db-3"]);
    expect(d.glueMock.commandCalls(GetTablesCommand, { DatabaseName: "a" }).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      "t-2",
      "t-3",
      "t-4",
    ]);
    expect(
      d.lf.commandCalls(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_TABLE" }).map((c) => c.args[0].input.NextToken),
    ).toEqual([undefined, "p-2", "p-3"]);
  });

  it("fails instead of looping forever when a page hands back the token it was asked with", async () => {
    const d = awsDoubles();
    d.lf.on(ListLFTagsCommand).resolves({ LFTags: [], NextToken: "same" });
    const error = await readFailure(sourceOver(d).read());
    expect(error.code).toBe("SOURCE_INCOMPLETE");
    expect(error.message).toMatch(/ListLFTags.*same NextToken/);
    expect(d.lf.commandCalls(ListLFTagsCommand)).toHaveLength(2);
  });
});

describe("aws source: failures", () => {
  it("turns a permanent AccessDeniedException into SOURCE_INCOMPLETE naming operation and resource, and returns no snapshot", async () => {
    const d = awsDoubles();
    salesAccount(d);
    const denied = new AccessDeniedException({ message: "Insufficient Lake Formation permission(s) on orders", $metadata: { httpStatusCode: 403 } });
    d.lf.on(GetResourceLFTagsCommand, { Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: "sales", Name: "orders" } } }).rejects(denied);
    const error = await readFailure(sourceOver(d).read());
    expect(error.code).toBe("SOURCE_INCOMPLETE");
    expect(error.message).toContain("lakeformation:GetResourceLFTags table sales.orders failed: AccessDeniedException");
    expect(error.cause).toBe(denied);
  });

  it("starts no further table reads after the first failure", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetDatabasesCommand).resolves({ DatabaseList: [database("a")] });
    d.glueMock.on(GetTablesCommand).resolves({ TableList: ["t1", "t2", "t3", "t4"].map((t) => table("a", t, ["c"])) });
    d.lf
      .on(GetResourceLFTagsCommand, { Resource: { Table: { CatalogId: ACCOUNT, DatabaseName: "a", Name: "t1" } } })
      .rejects(new AccessDeniedException({ message: "denied", $metadata: { httpStatusCode: 403 } }));
    await readFailure(sourceOver(d, { concurrency: 1 }).read());
    const tables = d.lf.commandCalls(GetResourceLFTagsCommand).flatMap((c) => c.args[0].input.Resource?.Table?.Name ?? []);
    expect(tables).toEqual(["t1"]);
  });

  it("fails on ListPermissions errors too: without every policy a run could revoke what LF still allows", async () => {
    const d = awsDoubles();
    d.lf
      .on(ListPermissionsCommand, { ResourceType: "LF_TAG_POLICY_DATABASE" })
      .rejects(new AccessDeniedException({ message: "not a data lake admin", $metadata: { httpStatusCode: 403 } }));
    const error = await readFailure(sourceOver(d).read());
    expect(error.code).toBe("SOURCE_INCOMPLETE");
    expect(error.message).toContain("lakeformation:ListPermissions resource type LF_TAG_POLICY_DATABASE failed");
  });

  it("refuses an assignment with two values for one key (drift) rather than picking one", async () => {
    const d = awsDoubles();
    salesAccount(d);
    d.assignments.set("hr.staff", { LFTagsOnTable: lfTagPairs({ Access: ["Public", "Restricted"] }) });
    const error = await readFailure(sourceOver(d).read());
    expect(error.code).toBe("SOURCE_INCOMPLETE");
    expect(error.message).toContain("table hr.staff: tag access is assigned the values [public, restricted]");
  });

  it("keeps at most `concurrency` GetResourceLFTags calls in flight", async () => {
    const d = awsDoubles();
    d.glueMock.on(GetDatabasesCommand).resolves({ DatabaseList: [database("a")] });
    d.glueMock.on(GetTablesCommand).resolves({ TableList: Array.from({ length: 20 }, (_, i) => table("a", `t${i}`, ["c"])) });
    let inFlight = 0;
    let peak = 0;
    d.lf.on(GetResourceLFTagsCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return {};
    });
    const { snapshot } = await sourceOver(d, { concurrency: 3 }).read();
    expect(snapshot.databases[0]?.tables).toHaveLength(20);
    expect(peak).toBe(3);
  });
});

describe("aws source: throttling goes through the SDK's retry (real client, local endpoint)", () => {
  // aws-sdk-client-mock replaces Client#send, so the retry middleware never runs under it (checked:
  // a mocked ThrottlingException reaches the caller after one call). These tests therefore let the
  // source build its own clients from the config and point them at a local HTTP endpoint.
  let endpoint: FakeAwsEndpoint;
  let throttleListPermissions = 0;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = "AKIDEXAMPLE";
    process.env.AWS_SECRET_ACCESS_KEY = "secret";
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    endpoint = await startFakeAwsEndpoint((operation) => {
      if (operation === "ListPermissions" && throttleListPermissions > 0) {
        throttleListPermissions--;
        return { status: 429, errorType: "ThrottlingException", body: { message: "Rate exceeded" } };
      }
      const empty: Record<string, unknown> = {
        GetDatabases: { DatabaseList: [] },
        ListLFTags: { LFTags: [] },
        ListPermissions: { PrincipalResourcePermissions: [] },
        ListLFTagExpressions: { LFTagExpressions: [] },
      };
      return { status: 200, body: empty[operation] ?? {} };
    });
  });

  afterAll(async () => {
    process.env = savedEnv;
    await endpoint.close();
  });

  function localSource(maxAttempts: number) {
    return createAwsSource(
      awsSourceConfig({ region: "eu-west-1", maxAttempts, lakeFormationEndpoint: endpoint.url, glueEndpoint: endpoint.url }),
    );
  }

  it("re-sends a throttled call and completes the read", async () => {
    throttleListPermissions = 1;
    endpoint.calls.length = 0;
    const { snapshot } = await localSource(3).read();
    expect(snapshot.policies).toEqual([]);
    expect(endpoint.calls.filter((op) => op === "ListPermissions")).toHaveLength(4);
    expect(endpoint.calls[0]).toBe("GetDatabases");
  });

  it("gives up after maxAttempts from the config with SOURCE_INCOMPLETE", async () => {
    throttleListPermissions = 100;
    endpoint.calls.length = 0;
    const error = await readFailure(localSource(2).read());
    expect(error.code).toBe("SOURCE_INCOMPLETE");
    expect(error.message).toContain("lakeformation:ListPermissions resource type LF_TAG_POLICY failed: ThrottlingException");
    expect(endpoint.calls.filter((op) => op === "ListPermissions")).toHaveLength(2);
  });
});
