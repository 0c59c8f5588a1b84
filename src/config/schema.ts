import { z } from "zod";
import { foldName } from "../core/map/names.js";

const nonEmpty = z.string().min(1);

export const fileSourceSchema = z.strictObject({
  kind: z.literal("file"),
  /** Relative paths are resolved against the config file's folder. */
  path: nonEmpty,
});

export const awsSourceSchema = z.strictObject({
  kind: z.literal("aws"),
  region: nonEmpty.optional(),
  /**
   * The account id, or a multi-level catalog id as Glue and Lake Formation take it: the account id,
   * then `:` and the catalog path (`123456789012:s3tablescatalog/bucket`, `123456789012:federated`).
   */
  catalogId: z
    .string()
    .regex(/^\d{12}(?::[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)?$/, "a 12-digit AWS account id, optionally followed by :catalog[/child]")
    .optional(),
  /**
   * A role in the catalog's account to read it with (sts:AssumeRole), when the service runs in
   * another account; the session is renewed before it expires. Omitted: the task role reads.
   */
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME")
    .optional(),
  /** The external id the role's trust policy requires (sts:ExternalId); only with roleArn. */
  externalId: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, "2-1224 characters of [A-Za-z0-9_+=,.@:/-]").optional(),
  /** RoleSessionName: shows in the catalog account's CloudTrail as the assumed-role session. */
  sessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, "2-64 characters of [A-Za-z0-9_+=,.@-]").default("lf-redshift-sync"),
  /** Endpoint overrides, for tests and VPC endpoints. */
  lakeFormationEndpoint: z.url().optional(),
  glueEndpoint: z.url().optional(),
  stsEndpoint: z.url().optional(),
  /** Parallel API calls while reading tags of tables. */
  concurrency: z.number().int().min(1).max(64).default(8),
  maxAttempts: z.number().int().min(1).max(20).default(8),
  /**
   * The start-up check that the reading role is a Lake Formation (read-only) administrator
   * (src/catalog/lf-admin-check.ts): `require` refuses when it is not or when that cannot be
   * checked; `warn` refuses only when it is not; `off` skips the check.
   */
  adminCheck: z.enum(["require", "warn", "off"]).default("require"),
}).refine((source) => source.externalId === undefined || source.roleArn !== undefined, {
  message: "externalId is sent with AssumeRole: set source.roleArn too",
  path: ["externalId"],
});

/** setTimeout/setInterval hold a signed 32-bit delay: a longer one fires at once (and a schedule runs back to back). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const postgresTargetSchema = z.strictObject({
  kind: z.literal("postgres"),
  url: nonEmpty,
  /**
   * Per session: no statement runs longer (`statement_timeout`, default 15 min), no lock is waited for
   * longer (`lock_timeout`, default 30 s). Defaults live in postgres-executor.ts.
   */
  statementTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
  lockTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
  /** A whole batch transaction (BEGIN..COMMIT, default 30 min); past it the session is cancelled and the batch fails. */
  batchTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
});

export const pgliteTargetSchema = z.strictObject({
  kind: z.literal("pglite"),
  /** Folder of the embedded database; relative to the config file. Omit for in-memory. */
  dataDir: nonEmpty.optional(),
});

export const dataApiTargetSchema = z
  .strictObject({
    kind: z.literal("data-api"),
    database: nonEmpty,
    region: nonEmpty.optional(),
    endpoint: z.url().optional(),
    clusterIdentifier: nonEmpty.optional(),
    workgroupName: nonEmpty.optional(),
    dbUser: nonEmpty.optional(),
    secretArn: nonEmpty.optional(),
    /** SQL dialect spoken behind the endpoint; `postgres` only for the local test endpoint. */
    dialect: z.enum(["redshift", "postgres"]).default("redshift"),
    pollIntervalMs: z.number().int().min(1).default(250),
    statementTimeoutMs: z.number().int().min(1).default(15 * 60_000),
  })
  .superRefine((target, context) => {
    for (const problem of dataApiTargetProblems(target)) context.addIssue({ code: "custom", ...problem });
  });

/**
 * The Data API's documented credential modes (aws-facts §5.2): secretArn (the cluster named by the
 * secret, or by clusterIdentifier); clusterIdentifier + dbUser (GetClusterCredentials);
 * clusterIdentifier alone (GetClusterCredentialsWithIAM); workgroupName alone (Serverless
 * GetCredentials); workgroupName + secretArn. Anything else is named by its field.
 */
export function dataApiTargetProblems(target: {
  readonly clusterIdentifier?: string | undefined;
  readonly workgroupName?: string | undefined;
  readonly dbUser?: string | undefined;
  readonly secretArn?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly dialect: "redshift" | "postgres";
}): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const { clusterIdentifier, workgroupName, dbUser, secretArn } = target;
  if (clusterIdentifier !== undefined && workgroupName !== undefined) {
    problems.push({ path: ["workgroupName"], message: "set clusterIdentifier (provisioned) or workgroupName (Serverless), not both" });
  }
  if (dbUser !== undefined && workgroupName !== undefined) {
    problems.push({
      path: ["dbUser"],
      message: "dbUser is not accepted with workgroupName: Serverless signs in as the caller's IAM identity; use workgroupName alone or with secretArn",
    });
  } else if (dbUser !== undefined && secretArn !== undefined) {
    problems.push({ path: ["dbUser"], message: "set dbUser or secretArn, not both: the secret names the database user" });
  } else if (dbUser !== undefined && clusterIdentifier === undefined) {
    problems.push({ path: ["dbUser"], message: "dbUser needs clusterIdentifier (temporary credentials for a provisioned cluster)" });
  }
  if (clusterIdentifier === undefined && workgroupName === undefined && secretArn === undefined) {
    problems.push({
      path: ["clusterIdentifier"],
      message: "set clusterIdentifier (provisioned, with dbUser, secretArn or neither for the IAM identity), workgroupName (Serverless) or secretArn",
    });
  }
  if (target.dialect === "postgres" && target.endpoint === undefined) {
    problems.push({ path: ["dialect"], message: "dialect postgres is for a local Data API endpoint only: set endpoint, or use dialect redshift" });
  }
  return problems;
}

export const lockSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("memory") }),
  z.strictObject({
    kind: z.literal("dynamodb"),
    table: nonEmpty,
    region: nonEmpty.optional(),
    endpoint: z.url().optional(),
    leaseSeconds: z.number().int().min(5).default(120),
  }),
]);

const granteeKind = z.enum(["group", "role"]);

export const principalRuleSchema = z.strictObject({
  /** Regular expression matched against the whole principal identifier. */
  match: nonEmpty,
  /** Grantee name; `$1`, `$<name>` refer to the match's groups. */
  grantee: nonEmpty,
  kind: granteeKind.default("group"),
  lowercase: z.boolean().default(true),
});

export const mappingSchema = z.strictObject({
  /** Explicit principal -> grantee map; wins over `principalRules`. */
  principals: z
    .record(nonEmpty, z.union([nonEmpty, z.strictObject({ name: nonEmpty, kind: granteeKind.default("group") })]))
    .default({}),
  /**
   * Tried in order after `principals`, for principals of `accounts` only. Default: an IAM role
   * without a path -> group of the same name, lower-cased (a role with a path is reported unmapped).
   */
  principalRules: z
    .array(principalRuleSchema)
    .default([{ match: "^arn:aws:iam::\\d{12}:role/([^/]+)$", grantee: "$1", kind: "group", lowercase: true }]),
  /**
   * AWS accounts whose principals `principalRules` may map. Default: the catalog's own account (the
   * snapshot's catalogId); principals of other accounts are reported, never mapped by a rule.
   */
  accounts: z.array(z.string().regex(/^\d{12}$/, "a 12-digit AWS account id")).min(1).optional(),
  /** Grantees that several principals may share (union of their access); any other such mapping is refused. */
  sharedGrantees: z.array(nonEmpty).default([]),
  databases: z
    .strictObject({
      include: z.array(nonEmpty).default(["*"]),
      exclude: z.array(nonEmpty).default([]),
      /** Glue database -> Redshift schema; one database per schema (configSchema refuses two, as they would merge their grants). */
      rename: z.record(nonEmpty, nonEmpty).default({}),
    })
    .default({ include: ["*"], exclude: [], rename: {} }),
  /** LF permission -> Redshift table privileges; replaces the dialect's default for that permission. */
  privileges: z.partialRecord(z.enum(["SELECT", "INSERT", "DELETE", "DROP", "ALTER"]), z.array(z.enum(["SELECT", "INSERT", "UPDATE", "DELETE", "DROP", "REFERENCES", "TRUNCATE"]))).default({}),
});

/** Who owns held grants, per grantee (README "Adopting an existing warehouse"); first matching rule wins, default `recorded`. */
export const ownershipRuleSchema = z.strictObject({
  /** Grantee names or globs (`*`, `?`) as the warehouse spells them. */
  grantees: z.array(nonEmpty).min(1),
  mode: z.enum(["recorded", "adopt", "authoritative"]),
  kind: granteeKind.optional(),
});

export const safetySchema = z.strictObject({
  maxRevokes: z.number().int().min(0).default(500),
  maxRevokeRatio: z.number().min(0).max(1).default(0.5),
});

export const serverSchema = z.strictObject({
  host: nonEmpty.default("0.0.0.0"),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Webhook credentials: API-key header (EventBridge connection ApiKeyName/ApiKeyValue) and/or basic auth. */
  webhook: z
    .strictObject({
      apiKeyHeader: nonEmpty.default("x-api-key"),
      /** Literal secret or `env:NAME` to read it from the environment. */
      apiKey: nonEmpty.optional(),
      basicUser: nonEmpty.optional(),
      basicPassword: nonEmpty.optional(),
    })
    .default({ apiKeyHeader: "x-api-key" }),
  /**
   * Bearer token for GET /plan, /runs and the details of /readyz; never the webhook credentials (the
   * EventBridge connection's secret must not read the access map). `env:NAME` allowed.
   */
  reportToken: nonEmpty.optional(),
  debounceMs: z.number().int().min(0).max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days)`).default(5000),
  bodyLimitBytes: z.number().int().min(1024).default(256 * 1024),
  /** Whole request, body included (fastify requestTimeout): a slow client is cut off. */
  requestTimeoutMs: z.number().int().min(1000).max(MAX_TIMER_MS).default(30_000),
  /** Idle socket (fastify connectionTimeout). */
  connectionTimeoutMs: z.number().int().min(1000).max(MAX_TIMER_MS).default(60_000),
  /** Idle socket while an authenticated report reads the whole catalog (GET /plan?refresh=1, GET /access). */
  reportTimeoutMs: z.number().int().min(1000).max(MAX_TIMER_MS).default(30 * 60_000),
  /** How long GET /readyz reuses its last probe. */
  readyCacheMs: z.number().int().min(0).max(60_000).default(5000),
  /** On SIGTERM, how long the running run may take to finish its batch before the server stops anyway. */
  shutdownGraceMs: z.number().int().min(1000).max(MAX_TIMER_MS).default(60_000),
});

/** Webhook events re-read what they name and re-plan only that (issue 11); the scheduled full run stays the truth. */
export const incrementalSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** A change reaching more tables than this (a policy on a tag used everywhere) is left to a full run. */
  maxTables: z.number().int().min(1).default(1000),
  /** An event finding a snapshot older than this runs in full (the snapshot is refreshed by every full read). */
  maxSnapshotAgeSeconds: z.number().int().min(1).default(3600),
  /** At least this long between the starts of two full runs an event asks for (storms). */
  minFullRunIntervalSeconds: z.number().int().min(0).max(86_400).default(60),
});

export const scheduleSchema = z.strictObject({
  /** e.g. `15m`, `1h`, `90s`. */
  every: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, "a duration such as 90s, 15m or 1h")
    .refine((every) => durationMs(every) <= MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days, e.g. 596h)`)
    .refine((every) => durationMs(every) >= 1000, "at least 1s"),
});

const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `90s` -> 90000; the regex of scheduleSchema.every has checked the form. */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) return Number.NaN;
  return Number(match[1]) * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
}

export const configSchema = z.strictObject({
  source: z.discriminatedUnion("kind", [fileSourceSchema, awsSourceSchema]),
  target: z.union([postgresTargetSchema, pgliteTargetSchema, dataApiTargetSchema]),
  /** The config schema inside the target that holds migrations, recorded grants and the run log. */
  stateSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "a plain lower-case identifier")
    // Others may create objects in these (issue 13 item 1): the service must own its state schema alone.
    .refine((name) => name !== "public" && name !== "information_schema" && !name.startsWith("pg_"), "must be a schema of its own, not public or a system schema")
    .default("lfsync"),
  mapping: mappingSchema.default({
    principals: {},
    principalRules: [{ match: "^arn:aws:iam::\\d{12}:role/([^/]+)$", grantee: "$1", kind: "group", lowercase: true }],
    sharedGrantees: [],
    databases: { include: ["*"], exclude: [], rename: {} },
    privileges: {},
  }),
  safety: safetySchema.default({ maxRevokes: 500, maxRevokeRatio: 0.5 }),
  ownership: z.array(ownershipRuleSchema).default([]),
  lock: lockSchema.default({ kind: "memory" }),
  server: serverSchema.optional(),
  schedule: scheduleSchema.optional(),
  incremental: incrementalSchema.default({ enabled: true, maxTables: 1000, maxSnapshotAgeSeconds: 3600, minFullRunIntervalSeconds: 60 }),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
}).superRefine((config, context) => {
  const dialect = config.target.kind === "data-api" ? config.target.dialect : "postgres";
  for (const problem of renameProblems(config.mapping.databases.rename, dialect)) context.addIssue({ code: "custom", ...problem });
  if (dialect !== "redshift") return;
  for (const [permission, privileges] of Object.entries(config.mapping.privileges)) {
    privileges?.forEach((privilege, index) => {
      if (!(REDSHIFT_TABLE_PRIVILEGES as readonly string[]).includes(privilege)) {
        context.addIssue({
          code: "custom",
          path: ["mapping", "privileges", permission, index],
          message: `Redshift has no table privilege ${privilege}; use one of ${REDSHIFT_TABLE_PRIVILEGES.join(", ")}`,
        });
      }
    });
  }
});

/**
 * Renames that send two databases to one schema of the dialect (Redshift folds ASCII letters even in
 * quoted names, aws-facts §6.5: X and x are one schema there), each named on the field of its last
 * database. The mapper refuses any collision again at map time, also with a database that is not
 * renamed (src/core/map/collisions.ts).
 */
export function renameProblems(rename: Readonly<Record<string, string>>, dialect: "redshift" | "postgres"): { path: string[]; message: string }[] {
  const bySchema = new Map<string, string[]>();
  for (const database of Object.keys(rename)) {
    const schema = foldName(rename[database]!, dialect);
    const list = bySchema.get(schema);
    if (list === undefined) bySchema.set(schema, [database]);
    else list.push(database);
  }
  const problems: { path: string[]; message: string }[] = [];
  for (const [schema, databases] of bySchema) {
    if (databases.length < 2) continue;
    const names = databases.map((d) => `${JSON.stringify(d)} (-> ${JSON.stringify(rename[d])})`).join(", ");
    problems.push({
      path: ["mapping", "databases", "rename", databases[databases.length - 1]!],
      message: `databases ${names} all map to ${dialect} schema ${JSON.stringify(schema)}: their grants would merge (a grantee Lake Formation allows on one would hold the other); give each its own schema`,
    });
  }
  return problems;
}

/** The object privileges Redshift's GRANT accepts on a table (aws-facts §6.1, r_GRANT): no TRUNCATE, no ALTER outside Lake Formation. */
export const REDSHIFT_TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "DROP", "REFERENCES"] as const;

export type Config = z.infer<typeof configSchema>;
export type MappingConfig = z.infer<typeof mappingSchema>;
export type SafetyConfig = z.infer<typeof safetySchema>;
export type TargetConfig = Config["target"];
export type SourceConfig = Config["source"];
export type LockConfig = Config["lock"];
export type ServerConfig = z.infer<typeof serverSchema>;
export type IncrementalConfig = z.infer<typeof incrementalSchema>;
export type DataApiTargetConfig = z.infer<typeof dataApiTargetSchema>;
export type AwsSourceConfig = z.infer<typeof awsSourceSchema>;
