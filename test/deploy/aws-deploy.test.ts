import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The fixes of an AWS review of config/deploy (issue 10): what a first deploy needs beyond the API
 * inputs' shapes (deploy-examples.test.ts): the scheduler's role, dead-letter queues and their
 * queue policies, secrets by full ARN, an init process, memory for the documented scales, the
 * VPC endpoints of a private subnet, and a public surface of one route.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const DEPLOY = join(ROOT, "config", "deploy");
const readJson = <T>(name: string): T => JSON.parse(readFileSync(join(DEPLOY, name), "utf8")) as T;
const deployReadme = readFileSync(join(DEPLOY, "README.md"), "utf8");

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: Record<string, string>;
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string>>;
}
interface Policy {
  readonly Version: string;
  readonly Statement: readonly Statement[];
}
interface Container {
  readonly command: readonly string[];
  readonly environment?: readonly { name: string; value: string }[];
  readonly linuxParameters?: { initProcessEnabled?: boolean };
  readonly secrets?: readonly { name: string; valueFrom: string }[];
}
interface TaskDefinition {
  readonly family: string;
  readonly taskRoleArn: string;
  readonly executionRoleArn: string;
  readonly cpu: string;
  readonly memory: string;
  readonly containerDefinitions: readonly Container[];
}

const tasks = readJson<Record<"reconcile" | "serve", TaskDefinition>>("ecs-task-definition.json");
const schedule = readJson<{ Target: { RoleArn: string; DeadLetterConfig?: { Arn: string }; EcsParameters: { PropagateTags?: string; EnableECSManagedTags?: boolean } } }>(
  "scheduler-schedule.json",
);
const schedulerPolicy = readJson<Policy>("scheduler-role-policy.json");
const queuePolicies = readJson<Record<"schedule" | "webhook", Policy>>("dlq-queue-policies.json");
const rule = readJson<{ PutRule: { Name: string }; PutTargets: { Targets: readonly { DeadLetterConfig: { Arn: string } }[] } }>("eventbridge-rule.json");

const list = (value: string | readonly string[]): readonly string[] => (typeof value === "string" ? [value] : value);
const statementsFor = (policy: Policy, action: string) => policy.Statement.filter((s) => s.Effect === "Allow" && list(s.Action).includes(action));
/** An SQS queue ARN's queue name. */
const queueName = (arn: string) => arn.split(":").at(-1);

describe("the scheduler's role", () => {
  it("may run every revision of the reconcile task definition, and nothing else", () => {
    const [runTask, ...more] = statementsFor(schedulerPolicy, "ecs:RunTask");
    expect(more).toEqual([]);
    expect(list(runTask!.Resource)).toEqual([expect.stringMatching(new RegExp(`:task-definition/${tasks.reconcile.family}:\\*$`))]);
  });

  it("may pass both roles of the task, to ECS tasks only", () => {
    const passes = statementsFor(schedulerPolicy, "iam:PassRole");
    expect(passes.flatMap((s) => list(s.Resource)).sort()).toEqual([tasks.reconcile.executionRoleArn, tasks.reconcile.taskRoleArn].sort());
    for (const s of passes) expect(s.Condition?.StringEquals?.["iam:PassedToService"]).toBe("ecs-tasks.amazonaws.com");
  });

  it("may tag the task it starts, since the schedule propagates tags", () => {
    expect(schedule.Target.EcsParameters.PropagateTags === "TASK_DEFINITION" || schedule.Target.EcsParameters.EnableECSManagedTags === true).toBe(true);
    const [tag] = statementsFor(schedulerPolicy, "ecs:TagResource");
    expect(list(tag!.Resource)).toEqual([expect.stringMatching(/:task\/[^/]+\/\*$/)]);
    expect(tag!.Condition?.StringEquals?.["ecs:CreateAction"]).toBe("RunTask");
  });

  it("is the role the schedule names, and is referenced by the deploy README", () => {
    expect(schedule.Target.RoleArn).toMatch(/:role\/lf-redshift-sync-scheduler$/);
    expect(deployReadme).toContain("scheduler-role-policy.json");
  });
});

describe("dead-letter queues", () => {
  it("the schedule has one, which its role may write to and whose queue policy lets that role in", () => {
    const dlq = schedule.Target.DeadLetterConfig?.Arn ?? "";
    expect(dlq).toMatch(/^arn:aws:sqs:/);
    expect(statementsFor(schedulerPolicy, "sqs:SendMessage").flatMap((s) => list(s.Resource))).toEqual([dlq]);
    const [allow] = statementsFor(queuePolicies.schedule, "sqs:SendMessage");
    expect(allow!.Resource).toBe(dlq);
    expect(allow!.Principal?.AWS).toBe(schedule.Target.RoleArn);
  });

  it("the change rule's queue policy lets EventBridge write for that rule only", () => {
    const dlq = rule.PutTargets.Targets[0]!.DeadLetterConfig.Arn;
    const [allow] = statementsFor(queuePolicies.webhook, "sqs:SendMessage");
    expect(allow!.Resource).toBe(dlq);
    expect(allow!.Principal?.Service).toBe("events.amazonaws.com");
    expect(allow!.Condition?.ArnEquals?.["aws:SourceArn"]).toMatch(new RegExp(`:rule/${rule.PutRule.Name}$`));
    expect(queueName(dlq)).not.toBe(queueName(schedule.Target.DeadLetterConfig?.Arn ?? ""));
    expect(deployReadme).toContain("dlq-queue-policies.json");
  });
});

describe("the task definitions", () => {
  const containers = Object.entries(tasks).map(([name, task]) => [name, task, task.containerDefinitions[0]!] as const);

  it.each(containers)("%s runs an init process as PID 1, so SIGTERM reaches node", (_name, _task, container) => {
    expect(container.linuxParameters?.initProcessEnabled).toBe(true);
  });

  it.each(containers)("%s gives node's heap room for 100k tables (core peak ~800 MB) and the container room for the heap", (_name, task, container) => {
    const options = container.environment?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
    const heap = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1] ?? 0);
    expect(heap).toBeGreaterThanOrEqual(1200);
    // Beyond the heap: code, buffers, the pg and SDK sockets. A quarter of the task, at least 384 MiB.
    expect(Number(task.memory)).toBeGreaterThanOrEqual(Math.max(heap + 384, heap / 0.75));
  });

  it("the README sizes the 200k-table scale (core peak ~1.3 GB) with a larger heap and task", () => {
    const row = /\|\s*200k[^\n]*\n/.exec(deployReadme)?.[0] ?? "";
    const heap = Number(/--max-old-space-size=(\d+)/.exec(row)?.[1] ?? 0);
    const memory = Number(/memory `(\d+)`/.exec(row)?.[1] ?? 0);
    expect(heap).toBeGreaterThanOrEqual(2000);
    expect(memory).toBeGreaterThanOrEqual(heap + 384);
  });

  it("read secrets by their full Secrets Manager ARN (the name plus the 6-character suffix)", () => {
    const secrets = tasks.serve.containerDefinitions[0]?.secrets ?? [];
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(secret.valueFrom).toMatch(/^arn:aws:secretsmanager:[^:]+:[^:]+:secret:[^:]+-[A-Za-z0-9]{6}$/);
    expect(deployReadme).toContain("kms:Decrypt");
  });
});

describe("the network", () => {
  it("lists the VPC endpoints a private subnet needs", () => {
    const section = deployReadme.slice(deployReadme.indexOf("VPC endpoints"));
    for (const service of ["lakeformation", "glue", "redshift-data", "dynamodb", "sts", "logs", "ecr.api", "ecr.dkr", "s3", "secretsmanager"]) {
      expect(section, service).toContain(`com.amazonaws.REGION.${service}\``);
    }
  });

  it("exposes only POST /webhooks/lakeformation on the public load balancer; everything else answers 404 there", () => {
    const alb = readJson<{
      ModifyListener: { DefaultActions: readonly { Type: string; FixedResponseConfig?: { StatusCode: string } }[] };
      CreateRule: { Conditions: readonly Record<string, unknown>[]; Actions: readonly { Type: string }[] };
    }>("alb-public-listener.json");
    expect(alb.ModifyListener.DefaultActions).toEqual([expect.objectContaining({ Type: "fixed-response", FixedResponseConfig: expect.objectContaining({ StatusCode: "404" }) })]);
    expect(alb.CreateRule.Conditions).toEqual([
      { Field: "path-pattern", PathPatternConfig: { Values: ["/webhooks/lakeformation"] } },
      { Field: "http-request-method", HttpRequestMethodConfig: { Values: ["POST"] } },
    ]);
    expect(alb.CreateRule.Actions.map((a) => a.Type)).toEqual(["forward"]);
    const apiDestination = readJson<{ InvocationEndpoint: string; HttpMethod: string }>("api-destination.json");
    expect(new URL(apiDestination.InvocationEndpoint).pathname).toBe("/webhooks/lakeformation");
    expect(apiDestination.HttpMethod).toBe("POST");
    expect(deployReadme).toContain("alb-public-listener.json");
  });
});

describe("cross-account catalog (source.roleArn)", () => {
  const taskPolicy = JSON.parse(readFileSync(join(ROOT, "docs", "iam-policy.json"), "utf8")) as Policy;
  const reader = readJson<{
    CreateRole: { RoleName: string; AssumeRolePolicyDocument: Policy };
    PutRolePolicy: { RoleName: string; PolicyDocument: Policy };
  }>("catalog-reader-role.json");

  it("the task role may assume the catalog reader role, and only that role", () => {
    const assume = statementsFor(taskPolicy, "sts:AssumeRole");
    expect(assume).toHaveLength(1);
    expect(list(assume[0]!.Resource)).toEqual([`arn:aws:iam::CATALOG_ACCOUNT_ID:role/${reader.CreateRole.RoleName}`]);
  });

  it("the reader role trusts the task role only with the external id", () => {
    const [trust, ...more] = reader.CreateRole.AssumeRolePolicyDocument.Statement;
    expect(more).toEqual([]);
    expect(trust!.Principal?.AWS).toBe(tasks.serve.taskRoleArn);
    expect(tasks.reconcile.taskRoleArn).toBe(tasks.serve.taskRoleArn);
    expect(list(trust!.Action)).toEqual(["sts:AssumeRole"]);
    expect(trust!.Condition?.StringEquals?.["sts:ExternalId"]).toBeDefined();
  });

  it("the start-up administrator check can run as either role: GetDataLakeSettings allowed, GetCallerIdentity needs no statement (documented)", () => {
    for (const policy of [taskPolicy, reader.PutRolePolicy.PolicyDocument]) {
      expect(statementsFor(policy, "lakeformation:GetDataLakeSettings")).toHaveLength(1);
      expect(statementsFor(policy, "sts:GetCallerIdentity")).toEqual([]);
    }
    expect(deployReadme).toMatch(/sts:GetCallerIdentity`, which AWS allows to\s+every identity/);
    expect(deployReadme).toContain("SOURCE_PERMISSION");
  });

  it("the reader role may read what the task role reads of Lake Formation and Glue", () => {
    const actions = (policy: Policy) => policy.Statement.flatMap((s) => list(s.Action)).filter((a) => /^(lakeformation|glue):/.test(a));
    expect([...actions(reader.PutRolePolicy.PolicyDocument)].sort()).toEqual([...actions(taskPolicy)].sort());
    expect(reader.PutRolePolicy.RoleName).toBe(reader.CreateRole.RoleName);
    expect(deployReadme).toContain("catalog-reader-role.json");
  });
});
