/**
 * Lake Formation and Glue doubles for the aws source: aws-sdk-client-mock stubs on real client
 * instances, answering with the SDK's own response shapes. Every operation the source calls
 * answers "empty, last page" unless a test says otherwise (later `.on()` rules win).
 */
import {
  GetDatabasesCommand,
  GetTablesCommand,
  GlueClient,
  type GlueClientResolvedConfig,
  type ServiceInputTypes as GlueInput,
  type ServiceOutputTypes as GlueOutput,
  type Column,
  type Database,
  type Table,
} from "@aws-sdk/client-glue";
import {
  GetLFTagExpressionCommand,
  GetResourceLFTagsCommand,
  LakeFormationClient,
  type LakeFormationClientResolvedConfig,
  type ServiceInputTypes as LfInput,
  type ServiceOutputTypes as LfOutput,
  ListLFTagExpressionsCommand,
  ListLFTagsCommand,
  ListPermissionsCommand,
  type GetResourceLFTagsResponse,
  type LFTag,
  type PrincipalResourcePermissions,
  type Resource,
} from "@aws-sdk/client-lakeformation";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import type { AwsSourceConfig } from "../../src/config/schema.js";

export const ACCOUNT = "123456789012";

export function awsSourceConfig(overrides: Partial<AwsSourceConfig> = {}): AwsSourceConfig {
  return { kind: "aws", region: "eu-west-1", catalogId: ACCOUNT, sessionName: "lf-redshift-sync", concurrency: 4, maxAttempts: 3, adminCheck: "require", ...overrides };
}

export interface AwsDoubles {
  readonly lakeFormation: LakeFormationClient;
  readonly glue: GlueClient;
  readonly lf: AwsStub<LfInput, LfOutput, LakeFormationClientResolvedConfig>;
  readonly glueMock: AwsStub<GlueInput, GlueOutput, GlueClientResolvedConfig>;
  /** Assigned tags by resource: `db`, `db.table`; the fake answers GetResourceLFTags from it. */
  readonly assignments: Map<string, GetResourceLFTagsResponse>;
}

export function awsDoubles(): AwsDoubles {
  const lakeFormation = new LakeFormationClient({ region: "eu-west-1" });
  const glue = new GlueClient({ region: "eu-west-1" });
  const lf = mockClient(lakeFormation);
  const glueMock = mockClient(glue);
  const assignments = new Map<string, GetResourceLFTagsResponse>();
  glueMock.on(GetDatabasesCommand).resolves({ DatabaseList: [] });
  glueMock.on(GetTablesCommand).resolves({ TableList: [] });
  lf.on(ListLFTagsCommand).resolves({ LFTags: [] });
  lf.on(ListPermissionsCommand).resolves({ PrincipalResourcePermissions: [] });
  lf.on(ListLFTagExpressionsCommand).resolves({ LFTagExpressions: [] });
  lf.on(GetLFTagExpressionCommand).rejects(new Error("no such expression in this fixture"));
  lf.on(GetResourceLFTagsCommand).callsFake((input: { Resource?: Resource }) => {
    const r = input.Resource;
    const key = r?.Table ? `${r.Table.DatabaseName}.${r.Table.Name}` : (r?.Database?.Name ?? "");
    return Promise.resolve(assignments.get(key) ?? {});
  });
  return { lakeFormation, glue, lf, glueMock, assignments };
}

export function database(name: string, extra: Partial<Database> = {}): Database {
  return { Name: name, CatalogId: ACCOUNT, CreateTime: new Date("2024-01-01T00:00:00Z"), ...extra };
}

export function column(name: string, type = "string"): Column {
  return { Name: name, Type: type };
}

export function table(databaseName: string, name: string, columns: string[], partitionKeys: string[] = [], extra: Partial<Table> = {}): Table {
  return {
    Name: name,
    DatabaseName: databaseName,
    CatalogId: ACCOUNT,
    TableType: "EXTERNAL_TABLE",
    IsRegisteredWithLakeFormation: true,
    StorageDescriptor: { Columns: columns.map((c) => column(c)), Location: `s3://lake/${databaseName}/${name}/` },
    PartitionKeys: partitionKeys.map((c) => column(c)),
    ...extra,
  };
}

export function lfTags(tags: Record<string, string | string[]>): LFTag[] {
  return Object.entries(tags).map(([TagKey, v]) => ({ TagKey, TagValues: Array.isArray(v) ? v : [v] }));
}

/** Assigned pairs as GetResourceLFTags returns them (LFTagPair carries the catalog). */
export function lfTagPairs(tags: Record<string, string | string[]>) {
  return lfTags(tags).map((t) => ({ CatalogId: ACCOUNT, ...t }));
}

/** A ListPermissions entry for an LF-tag policy grant. */
export function tagPolicyGrant(
  principal: string,
  resourceType: "DATABASE" | "TABLE",
  expression: Record<string, string[]> | { name: string },
  permissions: string[],
  extra: Partial<PrincipalResourcePermissions> = {},
): PrincipalResourcePermissions {
  const named = "name" in expression && typeof expression.name === "string";
  return {
    Principal: { DataLakePrincipalIdentifier: principal },
    Resource: {
      LFTagPolicy: {
        CatalogId: ACCOUNT,
        ResourceType: resourceType,
        // The service sends the default-empty list next to a name (aws-facts §1.6).
        Expression: named ? [] : lfTags(expression as Record<string, string[]>),
        ...(named ? { ExpressionName: (expression as { name: string }).name } : {}),
      },
    },
    Permissions: permissions as PrincipalResourcePermissions["Permissions"],
    PermissionsWithGrantOption: [],
    LastUpdated: new Date("2024-05-01T00:00:00Z"),
    LastUpdatedBy: `arn:aws:iam::${ACCOUNT}:role/lf-admin`,
    ...extra,
  };
}
