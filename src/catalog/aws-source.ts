import { GlueClient } from "@aws-sdk/client-glue";
import { LakeFormationClient } from "@aws-sdk/client-lakeformation";
import type { AwsCredentialIdentityProvider } from "@aws-sdk/types";
import type { Logger } from "pino";
import type { AwsSourceConfig } from "../config/schema.js";
import { readGlueCatalog } from "./aws/glue-catalog.js";
import { awsResourceReader } from "./aws/resource-reads.js";
import { readTableTagsOrGone } from "./aws/vanished.js";
import { AdaptiveConcurrency, observeThrottling } from "./aws/adaptive-concurrency.js";
import { mapLimited } from "./aws/limit.js";
import { readNamedExpressions, readTagPolicies } from "./aws/lf-policies.js";
import { readDatabaseTags, readTagOntology } from "./aws/lf-tags.js";
import { sourceCredentials } from "./aws/sts.js";
import type { CatalogSnapshot, CatalogSource, ColumnEntry, DatabaseEntry, SourceResult } from "./model.js";

export interface AwsSourceOptions {
  /** Injected clients (tests); by default built from the config by `createAwsClients`. */
  readonly lakeFormation?: LakeFormationClient;
  readonly glue?: GlueClient;
  readonly logger?: Pick<Logger, "debug">;
  /** The adaptive limits the reads run under (tests and the bench read them); by default one per client. */
  readonly limits?: AwsReadLimits;
}

/** Calls in flight per service, each adapting to that service's throttling (AIMD, aws/adaptive-concurrency.ts). */
export interface AwsReadLimits {
  readonly lakeFormation: AdaptiveConcurrency;
  readonly glue: AdaptiveConcurrency;
}

/**
 * CatalogSource over Lake Formation and Glue. `read()` returns the whole catalog or throws
 * SyncError("SOURCE_INCOMPLETE"); tags are recorded as assigned per level (the core computes
 * inheritance); keys and values are lower-cased, principals and names kept as AWS reports them.
 */
export function createAwsSource(config: AwsSourceConfig, options: AwsSourceOptions = {}): CatalogSource {
  // One provider for both clients: one AssumeRole session, renewed before it expires.
  const credentials = options.lakeFormation !== undefined && options.glue !== undefined ? undefined : sourceCredentials(config);
  const lakeFormation = options.lakeFormation ?? new LakeFormationClient(clientConfig(config, config.lakeFormationEndpoint, credentials));
  const glue = options.glue ?? new GlueClient(clientConfig(config, config.glueEndpoint, credentials));
  const limits = options.limits ?? { lakeFormation: new AdaptiveConcurrency(config.concurrency), glue: new AdaptiveConcurrency(config.concurrency) };
  observeThrottling(lakeFormation, limits.lakeFormation);
  observeThrottling(glue, limits.glue);
  return {
    read: () => readAwsCatalog(config, lakeFormation, glue, limits, options.logger),
    resources: awsResourceReader(lakeFormation, glue, config.catalogId),
  };
}

/**
 * Region and endpoint from the config; the assumed role's credentials when source.roleArn is set,
 * else the default credential chain (the ECS task role); and adaptive retry so throttled calls back off and are re-sent by the SDK (aws-facts §2.3: Lake
 * Formation's rate limits are undocumented).
 */
function clientConfig(config: AwsSourceConfig, endpoint: string | undefined, credentials: AwsCredentialIdentityProvider | undefined) {
  return {
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    retryMode: "adaptive",
    maxAttempts: config.maxAttempts,
  };
}

async function readAwsCatalog(
  config: AwsSourceConfig,
  lf: LakeFormationClient,
  glue: GlueClient,
  limits: AwsReadLimits,
  logger: Pick<Logger, "debug"> | undefined,
): Promise<SourceResult> {
  const { catalogId } = config;
  const catalog = await readGlueCatalog(glue, catalogId, limits.glue);
  const tags = await readTagOntology(lf, catalogId);
  const { policies, warnings: policyWarnings } = await readTagPolicies(lf, catalogId);
  const referenced = policies.flatMap((p) => (p.expressionName === undefined ? [] : [p.expressionName]));
  const named = await readNamedExpressions(lf, catalogId, referenced);

  const warnings = [...catalog.warnings, ...policyWarnings, ...named.warnings];
  const databaseTags = await mapLimited(catalog.databases, limits.lakeFormation, (db) => readDatabaseTags(lf, catalogId, db.name));
  const tableRefs = catalog.databases.flatMap((db) => db.tables.map((table) => ({ db: db.name, table })));
  const tableTags = await mapLimited(tableRefs, limits.lakeFormation, (ref) => readTableTagsOrGone(lf, glue, catalogId, ref.db, ref.table.name));

  let tableIndex = 0;
  const databases: DatabaseEntry[] = catalog.databases.map((db, dbIndex) => ({
    name: db.name,
    tags: databaseTags[dbIndex] ?? {},
    tables: db.tables.flatMap((table) => {
      const assigned = tableTags[tableIndex++];
      if (assigned === "gone") {
        warnings.push(`skipped table ${db.name}.${table.name}: dropped while the catalog was read (Glue no longer lists it)`);
        return [];
      }
      const columnTags = assigned?.columns ?? new Map();
      for (const name of columnTags.keys()) {
        if (!table.columns.includes(name)) {
          warnings.push(`ignored tags of column ${db.name}.${table.name}.${name}: Glue lists no such column`);
        }
      }
      const columns: ColumnEntry[] = table.columns.map((name) => ({ name, tags: columnTags.get(name) ?? {} }));
      return [{ name: table.name, tags: assigned?.tags ?? {}, columns }];
    }),
  }));

  const snapshot: CatalogSnapshot = {
    // The mapper maps only principals of this account: the configured id, else the one Glue reports.
    ...(catalog.catalogId === undefined ? {} : { catalogId: catalog.catalogId }),
    tags,
    databases,
    expressions: named.expressions,
    policies,
  };
  logger?.debug(
    {
      databases: databases.length,
      tables: tableRefs.length,
      policies: policies.length,
      warnings: warnings.length,
      throttled: { lakeFormation: limits.lakeFormation.throttles, glue: limits.glue.throttles },
      concurrency: { lakeFormation: limits.lakeFormation.current, glue: limits.glue.current },
    },
    "read the Lake Formation catalog",
  );
  return { snapshot, warnings };
}
