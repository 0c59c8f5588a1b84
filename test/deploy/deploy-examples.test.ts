import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { main } from "../../src/cli.js";
import { serverSchema } from "../../src/config/schema.js";
import {
  CLOUDTRAIL_DETAIL_TYPE,
  classifyEvent,
  type EventEnvelope,
  GLUE_EVENT_NAMES,
  GLUE_EVENT_SOURCE,
  GLUE_SOURCE,
  GLUE_STATE_CHANGE_DETAIL_TYPES,
  LAKE_FORMATION_EVENT_NAMES,
  LAKE_FORMATION_EVENT_SOURCE,
  LAKE_FORMATION_SOURCE,
} from "../../src/server/events.js";
import { execForm, healthcheckCommand, instructionsOf, readDockerfile, type Stage } from "../support/dockerfile.js";

/**
 * config/deploy holds the AWS API inputs an operator feeds to the AWS CLI. Their member names are
 * checked with strict schemas (a typo such as `readOnlyRootFilesystem` is an unknown field), and
 * their contents against the code they deploy: the webhook's event names, the CLI's commands, the
 * Dockerfile's config path and health check, the server's API-key header.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const DEPLOY = join(ROOT, "config", "deploy");
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));

// Subsets of the API members, names as in the API references; extend when an example uses another member.
const arn = z.string().regex(/^arn:aws[a-z-]*:/);
const awsvpc = z.strictObject({
  Subnets: z.array(z.string().min(1)).min(1).max(16),
  SecurityGroups: z.array(z.string().min(1)).max(5),
  AssignPublicIp: z.enum(["ENABLED", "DISABLED"]),
});

/** ECS RegisterTaskDefinition input. */
const taskDefinitionSchema = z.strictObject({
  family: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/),
  taskRoleArn: arn,
  executionRoleArn: arn,
  networkMode: z.enum(["bridge", "host", "awsvpc", "none"]),
  requiresCompatibilities: z.array(z.enum(["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"])),
  runtimePlatform: z.strictObject({ cpuArchitecture: z.enum(["X86_64", "ARM64"]), operatingSystemFamily: z.string() }),
  cpu: z.string(),
  memory: z.string(),
  containerDefinitions: z
    .array(
      z.strictObject({
        name: z.string(),
        image: z.string(),
        essential: z.boolean(),
        command: z.array(z.string()),
        environment: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
        linuxParameters: z.strictObject({ initProcessEnabled: z.boolean() }).optional(),
        portMappings: z.array(z.strictObject({ containerPort: z.number().int(), protocol: z.enum(["tcp", "udp"]), name: z.string() })).optional(),
        secrets: z.array(z.strictObject({ name: z.string(), valueFrom: arn })).optional(),
        healthCheck: z
          .strictObject({
            command: z.array(z.string()),
            interval: z.number().int().min(5).max(300),
            timeout: z.number().int().min(2).max(60),
            retries: z.number().int().min(1).max(10),
            startPeriod: z.number().int().min(0).max(300),
          })
          .optional(),
        readonlyRootFilesystem: z.boolean(),
        stopTimeout: z.number().int().min(2).max(120),
        logConfiguration: z.strictObject({ logDriver: z.literal("awslogs"), options: z.record(z.string(), z.string()) }),
      }),
    )
    .length(1),
});

/** EventBridge Scheduler CreateSchedule input with an ECS RunTask target. */
const scheduleSchema = z.strictObject({
  Name: z.string().regex(/^[0-9a-zA-Z-_.]{1,64}$/),
  GroupName: z.string(),
  Description: z.string().max(512),
  ScheduleExpression: z.string().regex(/^(rate|cron|at)\(.+\)$/),
  FlexibleTimeWindow: z.strictObject({ Mode: z.enum(["OFF", "FLEXIBLE"]) }),
  State: z.enum(["ENABLED", "DISABLED"]),
  Target: z.strictObject({
    Arn: arn,
    RoleArn: arn,
    EcsParameters: z.strictObject({
      TaskDefinitionArn: arn,
      TaskCount: z.number().int().min(1).max(10),
      LaunchType: z.enum(["EC2", "FARGATE", "EXTERNAL"]),
      PlatformVersion: z.string(),
      NetworkConfiguration: z.strictObject({ AwsvpcConfiguration: awsvpc }),
      PropagateTags: z.literal("TASK_DEFINITION"),
      EnableECSManagedTags: z.boolean(),
    }),
    RetryPolicy: z.strictObject({ MaximumRetryAttempts: z.number().int().min(0).max(185), MaximumEventAgeInSeconds: z.number().int().min(60).max(86400) }),
    DeadLetterConfig: z.strictObject({ Arn: arn }).optional(),
  }),
});

/** EventBridge PutRule + PutTargets inputs; EventPattern is kept as an object (README: `tojson` before the CLI). */
const ruleSchema = z.strictObject({
  PutRule: z.strictObject({
    Name: z.string().regex(/^[.\-_A-Za-z0-9]{1,64}$/),
    Description: z.string().max(512),
    EventBusName: z.string(),
    State: z.enum(["ENABLED", "DISABLED"]),
    EventPattern: z.record(z.string(), z.unknown()),
  }),
  PutTargets: z.strictObject({
    Rule: z.string(),
    EventBusName: z.string(),
    Targets: z
      .array(
        z.strictObject({
          Id: z.string().regex(/^[.\-_A-Za-z0-9]{1,64}$/),
          Arn: arn,
          RoleArn: arn,
          RetryPolicy: z.strictObject({ MaximumRetryAttempts: z.number().int().min(0).max(185), MaximumEventAgeInSeconds: z.number().int().min(60).max(86400) }),
          DeadLetterConfig: z.strictObject({ Arn: arn }),
        }),
      )
      .length(1),
  }),
});

/** EventBridge CreateApiDestination input. */
const apiDestinationSchema = z.strictObject({
  Name: z.string().regex(/^[.\-_A-Za-z0-9]{1,64}$/),
  Description: z.string().max(512),
  ConnectionArn: arn,
  InvocationEndpoint: z.url({ protocol: /^https$/ }),
  HttpMethod: z.enum(["POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"]),
  InvocationRateLimitPerSecond: z.number().int().min(1),
});

/** EventBridge CreateConnection input (aws-facts §4.3). */
const connectionSchema = z.strictObject({
  Name: z.string().regex(/^[.\-_A-Za-z0-9]{1,64}$/),
  Description: z.string().max(512),
  AuthorizationType: z.literal("API_KEY"),
  AuthParameters: z.strictObject({ ApiKeyAuthParameters: z.strictObject({ ApiKeyName: z.string().min(1), ApiKeyValue: z.string().min(1) }) }),
});

const taskDefinitions = z.strictObject({ reconcile: taskDefinitionSchema, serve: taskDefinitionSchema }).parse(readJson(join(DEPLOY, "ecs-task-definition.json")));
const schedule = scheduleSchema.parse(readJson(join(DEPLOY, "scheduler-schedule.json")));
const rule = ruleSchema.parse(readJson(join(DEPLOY, "eventbridge-rule.json")));
const apiDestination = apiDestinationSchema.parse(readJson(join(DEPLOY, "api-destination.json")));
const connection = connectionSchema.parse(readJson(join(DEPLOY, "connection.json")));
const runtime: Stage = readDockerfile(join(ROOT, "Dockerfile")).at(-1)!;
const imageCmd = execForm(instructionsOf(runtime, "CMD")[0] ?? "null");
const imageConfigPath = imageCmd[imageCmd.indexOf("--config") + 1];

interface Branch {
  readonly source?: readonly string[];
  readonly "detail-type"?: readonly string[];
  readonly detail?: { readonly eventSource?: readonly string[]; readonly eventName?: readonly string[] };
}
const branches = (rule.PutRule.EventPattern.$or ?? []) as readonly Branch[];
const cloudTrailBranch = (source: string) => branches.find((b) => b.source?.includes(source) && b["detail-type"]?.includes(CLOUDTRAIL_DETAIL_TYPE));

describe("the EventBridge rule", () => {
  it("lists exactly the Lake Formation CloudTrail events the webhook treats as relevant", () => {
    const branch = cloudTrailBranch(LAKE_FORMATION_SOURCE);
    expect(branch?.detail?.eventSource).toEqual([LAKE_FORMATION_EVENT_SOURCE]);
    const names = branch?.detail?.eventName ?? [];
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...LAKE_FORMATION_EVENT_NAMES].sort());
  });

  it("lists exactly the Glue CloudTrail events the webhook treats as relevant", () => {
    const branch = cloudTrailBranch(GLUE_SOURCE);
    expect(branch?.detail?.eventSource).toEqual([GLUE_EVENT_SOURCE]);
    const names = branch?.detail?.eventName ?? [];
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...GLUE_EVENT_NAMES].sort());
  });

  it("lists exactly the native Glue state-change detail-types the webhook treats as relevant", () => {
    const native = branches.filter((b) => b.source?.includes(GLUE_SOURCE) && !b["detail-type"]?.includes(CLOUDTRAIL_DETAIL_TYPE));
    expect(native).toHaveLength(1);
    expect([...(native[0]?.["detail-type"] ?? [])].sort()).toEqual([...GLUE_STATE_CHANGE_DETAIL_TYPES].sort());
  });

  it("matches an event exactly when the webhook would act on it (pattern evaluated like EventBridge)", () => {
    // Irrelevant names next to the relevant ones: reads, partitions, table versions (aws-facts §3, §4.1).
    const eventNames = [...LAKE_FORMATION_EVENT_NAMES, ...GLUE_EVENT_NAMES, "GetTables", "ListPermissions", "GetLFTag", "GetDataLakeSettings", "CreatePartition", "UpdatePartition", "DeleteTableVersion", "BatchDeleteTableVersion", "PutObject"];
    const detailTypes = [CLOUDTRAIL_DETAIL_TYPE, "Amazon API Call via CloudTrail", ...GLUE_STATE_CHANGE_DETAIL_TYPES, "Glue Job State Change"];
    // EventBridge derives `source` from the CloudTrail eventSource, so only these pairs occur.
    const sources = [
      [LAKE_FORMATION_SOURCE, LAKE_FORMATION_EVENT_SOURCE],
      [GLUE_SOURCE, GLUE_EVENT_SOURCE],
      ["aws.s3", "s3.amazonaws.com"],
    ] as const;
    const cases = sources.flatMap(([source, eventSource]) =>
      detailTypes.flatMap((detailType) =>
        eventNames.flatMap((eventName) => [undefined, "AccessDenied"].map((errorCode) => ({ source, detailType, eventSource, eventName, errorCode }))),
      ),
    );
    let matched = 0;
    for (const c of cases) {
      const event = envelope(c.source, c.detailType, {
        eventSource: c.eventSource,
        eventName: c.eventName,
        databaseName: "sales",
        typeOfChange: c.eventName === "CreatePartition" ? "BatchCreatePartition" : "UpdateTable",
        ...(c.errorCode === undefined ? {} : { errorCode: c.errorCode }),
      });
      const relevant = classifyEvent(event).relevant;
      expect({ ...c, matched: matchesPattern(rule.PutRule.EventPattern, event) }).toEqual({ ...c, matched: relevant });
      if (relevant) matched++;
    }
    // The cross product holds both kinds, so the equality above is not vacuous.
    expect(matched).toBeGreaterThan(LAKE_FORMATION_EVENT_NAMES.length);
    expect(cases.length - matched).toBeGreaterThan(matched);
  });

  it("targets the API destination, which posts to the webhook through the connection", () => {
    expect(rule.PutTargets.Rule).toBe(rule.PutRule.Name);
    expect(rule.PutTargets.Targets[0]?.Arn).toMatch(new RegExp(`:api-destination/${apiDestination.Name}/`));
    expect(apiDestination.ConnectionArn).toMatch(new RegExp(`:connection/${connection.Name}/`));
    expect(apiDestination.HttpMethod).toBe("POST");
    expect(new URL(apiDestination.InvocationEndpoint).pathname).toBe("/webhooks/lakeformation");
  });

  it("authenticates with the API-key header the server checks by default", () => {
    const defaults = serverSchema.parse({});
    expect(connection.AuthorizationType).toBe("API_KEY");
    expect(connection.AuthParameters.ApiKeyAuthParameters.ApiKeyName).toBe(defaults.webhook.apiKeyHeader);
  });
});

describe("the ECS task definitions", () => {
  it("run the reconcile one-shot and the server with the config path the image uses", () => {
    expect(imageCmd[0]).toBe("serve");
    expect(imageConfigPath).toMatch(/^\/.+\.ya?ml$/);
    expect(taskDefinitions.reconcile.containerDefinitions[0]?.command).toEqual(["reconcile", "--config", imageConfigPath]);
    expect(taskDefinitions.serve.containerDefinitions[0]?.command).toEqual(["serve", "--config", imageConfigPath]);
  });

  it.each(["reconcile", "serve"] as const)("%s: the CLI accepts the command and stops only at the missing config file", async (name) => {
    const command = taskDefinitions[name].containerDefinitions[0]?.command ?? [];
    const missing = join(ROOT, "test-artifacts", "no-such-dir", "config.yaml");
    const argv = command.map((arg) => (arg === imageConfigPath ? missing : arg));
    await expect(main(argv)).rejects.toMatchObject({ code: "CONFIG_INVALID", message: `cannot read the config file ${missing}` });
  });

  it("check the server's health the way the image does, on the port the server listens on by default", () => {
    const container = taskDefinitions.serve.containerDefinitions[0]!;
    expect(container.healthCheck?.command).toEqual(["CMD", ...healthcheckCommand(runtime)]);
    const port = serverSchema.parse({}).port;
    expect(container.portMappings?.map((p) => p.containerPort)).toEqual([port]);
    expect(instructionsOf(runtime, "EXPOSE")).toEqual([String(port)]);
    expect(instructionsOf(runtime, "ENV").join(" ")).toContain(`LF_SYNC_HEALTHCHECK_URL=http://127.0.0.1:${port}/healthz`);
  });

  it("give both tasks the same role, and the server the webhook secret it reads through env:", () => {
    expect(taskDefinitions.reconcile.taskRoleArn).toBe(taskDefinitions.serve.taskRoleArn);
    expect(taskDefinitions.serve.containerDefinitions[0]?.secrets?.map((s) => s.name)).toContain("LF_SYNC_WEBHOOK_API_KEY");
    expect(readFileSync(join(DEPLOY, "README.md"), "utf8")).toContain("env:LF_SYNC_WEBHOOK_API_KEY");
  });

  it("give the server a report token of its own, separate from the webhook secret (issue 13 item 13)", () => {
    const secrets = taskDefinitions.serve.containerDefinitions[0]?.secrets ?? [];
    const report = secrets.find((s) => s.name === "LF_SYNC_REPORT_TOKEN");
    const webhook = secrets.find((s) => s.name === "LF_SYNC_WEBHOOK_API_KEY");
    expect(report?.valueFrom).toMatch(/^arn:aws:secretsmanager:/);
    expect(report?.valueFrom).not.toBe(webhook?.valueFrom);
    expect(readFileSync(join(DEPLOY, "README.md"), "utf8")).toContain('reportToken: "env:LF_SYNC_REPORT_TOKEN"');
  });
});

describe("the schedule", () => {
  it("runs the reconcile task definition on Fargate", () => {
    const ecs = schedule.Target.EcsParameters;
    expect(ecs.TaskDefinitionArn).toMatch(new RegExp(`:task-definition/${taskDefinitions.reconcile.family}(:\\d+)?$`));
    expect(taskDefinitions.reconcile.requiresCompatibilities).toContain(ecs.LaunchType);
    expect(ecs.TaskCount).toBe(1);
  });
});

describe("the IAM policy", () => {
  const policyPath = join(ROOT, "docs", "iam-policy.json");
  it("is referenced by the deploy README", () => {
    expect(readFileSync(join(DEPLOY, "README.md"), "utf8")).toContain("docs/iam-policy.json");
  });

  // docs/iam-policy.json belongs to the AWS-adapter work and may land after this file; without it
  // there is nothing to check here, and the README test above still fails if the reference goes.
  it.runIf(existsSync(policyPath))("exists and is an IAM policy document", () => {
    const policy = z
      .strictObject({
        Version: z.literal("2012-10-17"),
        Statement: z.array(z.looseObject({ Effect: z.enum(["Allow", "Deny"]), Action: z.union([z.string(), z.array(z.string())]) })).min(1),
      })
      .parse(readJson(policyPath));
    expect(policy.Statement.length).toBeGreaterThan(0);
  });
});

function envelope(source: string, detailType: string, detail: Record<string, unknown>): EventEnvelope {
  return {
    version: "0",
    id: "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": detailType,
    source,
    account: "123456789012",
    time: "2025-01-01T00:00:00Z",
    region: "us-east-1",
    resources: [],
    detail,
  };
}

/**
 * EventBridge matching for the operators the rule uses: exact values, `exists`, and `$or`
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html).
 * Anything else throws, so a new operator in the rule cannot pass unnoticed.
 */
function matchesPattern(pattern: Record<string, unknown>, value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const object = value as Record<string, unknown>;
  return Object.entries(pattern).every(([key, rulePart]) => {
    if (key === "$or") return (rulePart as Record<string, unknown>[]).some((branch) => matchesPattern(branch, object));
    if (!Array.isArray(rulePart)) return matchesPattern(rulePart as Record<string, unknown>, object[key]);
    return rulePart.some((allowed: unknown) => {
      if (typeof allowed === "string") return object[key] === allowed;
      if (typeof allowed === "object" && allowed !== null && "exists" in allowed && Object.keys(allowed).length === 1) return (allowed.exists === true) === key in object;
      // EventBridge: anything-but matches a present value outside the list.
      if (typeof allowed === "object" && allowed !== null && "anything-but" in allowed) return key in object && !(allowed["anything-but"] as unknown[]).includes(object[key]);
      throw new Error(`matchesPattern does not know ${JSON.stringify(allowed)}`);
    });
  });
}
