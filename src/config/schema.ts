import { z } from "zod";

const nonEmpty = z.string().min(1);

export const fileSourceSchema = z.strictObject({
  kind: z.literal("file"),
  /** Relative paths are resolved against the config file's folder. */
  path: nonEmpty,
});

export const awsSourceSchema = z.strictObject({
  kind: z.literal("aws"),
  region: nonEmpty.optional(),
  catalogId: z.string().regex(/^\d{12}$/, "a 12-digit AWS account id").optional(),
  /** Endpoint overrides, for tests and VPC endpoints. */
  lakeFormationEndpoint: z.url().optional(),
  glueEndpoint: z.url().optional(),
  /** Parallel API calls while reading tags of tables. */
  concurrency: z.number().int().min(1).max(64).default(8),
  maxAttempts: z.number().int().min(1).max(20).default(8),
});

export const postgresTargetSchema = z.strictObject({
  kind: z.literal("postgres"),
  url: nonEmpty,
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
  .refine((t) => (t.clusterIdentifier === undefined) !== (t.workgroupName === undefined), {
    message: "set exactly one of clusterIdentifier (provisioned) or workgroupName (Serverless)",
    path: ["clusterIdentifier"],
  })
  .refine((t) => t.workgroupName !== undefined || t.dbUser !== undefined || t.secretArn !== undefined, {
    message: "a provisioned cluster needs dbUser or secretArn",
    path: ["dbUser"],
  });

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
  /** Tried in order after `principals`. Default: IAM role name -> group of the same name, lower-cased. */
  principalRules: z
    .array(principalRuleSchema)
    .default([{ match: "^arn:aws:iam::\\d{12}:role/(?:.*/)?([^/]+)$", grantee: "$1", kind: "group", lowercase: true }]),
  databases: z
    .strictObject({
      include: z.array(nonEmpty).default(["*"]),
      exclude: z.array(nonEmpty).default([]),
      /** Glue database -> Redshift schema. */
      rename: z.record(nonEmpty, nonEmpty).default({}),
    })
    .default({ include: ["*"], exclude: [], rename: {} }),
  /** LF permission -> Redshift table privileges; replaces the dialect's default for that permission. */
  privileges: z.partialRecord(z.enum(["SELECT", "INSERT", "DELETE", "DROP", "ALTER"]), z.array(z.enum(["SELECT", "INSERT", "UPDATE", "DELETE", "DROP", "REFERENCES", "TRUNCATE"]))).default({}),
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
  /** Bearer token for GET /plan and /runs (falls back to the webhook credentials). `env:NAME` allowed. */
  reportToken: nonEmpty.optional(),
  debounceMs: z.number().int().min(0).default(5000),
  bodyLimitBytes: z.number().int().min(1024).default(256 * 1024),
});

export const scheduleSchema = z.strictObject({
  /** e.g. `15m`, `1h`, `90s`. */
  every: z.string().regex(/^\d+(ms|s|m|h)$/, "a duration such as 90s, 15m or 1h"),
});

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
    principalRules: [{ match: "^arn:aws:iam::\\d{12}:role/(?:.*/)?([^/]+)$", grantee: "$1", kind: "group", lowercase: true }],
    databases: { include: ["*"], exclude: [], rename: {} },
    privileges: {},
  }),
  safety: safetySchema.default({ maxRevokes: 500, maxRevokeRatio: 0.5 }),
  lock: lockSchema.default({ kind: "memory" }),
  server: serverSchema.optional(),
  schedule: scheduleSchema.optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = z.infer<typeof configSchema>;
export type MappingConfig = z.infer<typeof mappingSchema>;
export type SafetyConfig = z.infer<typeof safetySchema>;
export type TargetConfig = Config["target"];
export type SourceConfig = Config["source"];
export type LockConfig = Config["lock"];
export type ServerConfig = z.infer<typeof serverSchema>;
export type DataApiTargetConfig = z.infer<typeof dataApiTargetSchema>;
export type AwsSourceConfig = z.infer<typeof awsSourceSchema>;
