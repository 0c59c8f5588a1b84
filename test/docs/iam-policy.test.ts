/**
 * docs/iam-policy.json must allow exactly the AWS operations the code calls: nothing missing (the
 * task would fail in production with AccessDenied) and nothing extra (least privilege). The set is
 * derived from src/ on every run, so a new `new XCommand(` in any module shows up here at once.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import * as dynamodb from "@aws-sdk/client-dynamodb";
import * as glue from "@aws-sdk/client-glue";
import * as lakeformation from "@aws-sdk/client-lakeformation";
import * as redshiftData from "@aws-sdk/client-redshift-data";
import * as sts from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

/** SDK client package -> IAM service prefix. For these services the IAM action is the API operation name. */
const IAM_PREFIX: Readonly<Record<string, string>> = {
  "@aws-sdk/client-lakeformation": "lakeformation",
  "@aws-sdk/client-glue": "glue",
  "@aws-sdk/client-redshift-data": "redshift-data",
  "@aws-sdk/client-dynamodb": "dynamodb",
  "@aws-sdk/client-sts": "sts",
};

const CLIENT_EXPORTS: Readonly<Record<string, ReadonlySet<string>>> = {
  "@aws-sdk/client-lakeformation": new Set(Object.keys(lakeformation)),
  "@aws-sdk/client-glue": new Set(Object.keys(glue)),
  "@aws-sdk/client-redshift-data": new Set(Object.keys(redshiftData)),
  "@aws-sdk/client-dynamodb": new Set(Object.keys(dynamodb)),
  "@aws-sdk/client-sts": new Set(Object.keys(sts)),
};

/**
 * Helpers that send commands the scan cannot see: the operations each one calls. A helper missing
 * here fails the scan, so it cannot slip past.
 */
const HELPER_OPERATIONS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  "@aws-sdk/client-dynamodb": { waitUntilTableExists: ["DescribeTable"], waitUntilTableNotExists: ["DescribeTable"] },
};

/**
 * Not called by our code: the Redshift Data API calls these on the task's behalf, with the task's
 * credentials, to log in to the database (aws-facts §5.2): GetClusterCredentials for a provisioned
 * cluster with `dbUser`, GetCredentials for Serverless with the IAM identity, GetSecretValue with
 * `secretArn`.
 */
const CREDENTIAL_ACTIONS = ["redshift-serverless:GetCredentials", "redshift:GetClusterCredentials", "secretsmanager:GetSecretValue"];

/**
 * Dependent actions: AWS checks these as the caller while serving an action the code calls, so the
 * policy needs them although no code sends them. Lake Formation's tag APIs check Glue permissions
 * on the resource (reported failure: AccessDenied "Insufficient Glue permissions"): a database's
 * tags need glue:GetDatabase, a table's or a column's glue:GetTable.
 */
const DEPENDENT_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  "lakeformation:GetResourceLFTags": ["glue:GetDatabase", "glue:GetTable"],
};

/**
 * Called only by ensureLeaseTable (src/lock/dynamodb-lock.ts), which tests and local set-ups use
 * and no command runs: they belong in docs/iam-policy-lease-table-setup.json, for whoever creates
 * the table, not in the task role's runtime policy.
 */
const SETUP_ONLY_ACTIONS = ["dynamodb:CreateTable", "dynamodb:DescribeTable"];

/**
 * Authorized for every identity: "No permissions are required to perform this operation", and a
 * Deny cannot block it (AWS STS API reference, GetCallerIdentity). The Lake Formation admin check
 * calls it at start-up; the policy does not list it.
 */
const ALWAYS_ALLOWED_ACTIONS = ["sts:GetCallerIdentity"];

interface Scan {
  readonly actions: Set<string>;
  readonly problems: string[];
}

/** The IAM actions one TypeScript source calls through AWS SDK v3 clients. */
function scanSource(file: string, text: string): Scan {
  const actions = new Set<string>();
  const problems: string[] = [];
  const bindings = new Map<string, { pkg: string; name: string }>();
  for (const m of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*["'](@aws-sdk\/[^"']+)["']/g)) {
    const [, typeOnly, list = "", pkg = ""] = m;
    if (typeOnly !== undefined) continue;
    for (const raw of list.split(",")) {
      const spec = raw.trim();
      if (spec === "" || spec.startsWith("type ")) continue;
      const [name = "", local = name] = spec.split(/\s+as\s+/).map((s) => s.trim());
      bindings.set(local, { pkg, name });
    }
  }
  if (/import\s+\*\s+as\s+\w+\s+from\s*["']@aws-sdk\//.test(text)) problems.push(`${file}: namespace import of an AWS SDK package; import the commands by name`);
  for (const [local, { pkg, name }] of bindings) {
    const prefix = IAM_PREFIX[pkg];
    const isUsed = new RegExp(`\\b${local}\\b`).test(text.replace(/import\s[^;]*;/g, ""));
    if (!isUsed) continue;
    if (prefix === undefined) {
      problems.push(`${file}: ${name} comes from ${pkg}, which has no IAM prefix in this test; add it`);
    } else if (name.endsWith("Command")) {
      if (new RegExp(`new\\s+${local}\\s*\\(`).test(text)) actions.add(`${prefix}:${name.slice(0, -"Command".length)}`);
    } else if (/^(paginate|waitUntil|waitFor)/.test(name)) {
      const operations = HELPER_OPERATIONS[pkg]?.[name];
      if (operations === undefined) problems.push(`${file}: ${name} sends commands this test cannot see; list them in HELPER_OPERATIONS`);
      for (const op of operations ?? []) actions.add(`${prefix}:${op}`);
    } else if (isAggregatedClient(pkg, name)) {
      problems.push(`${file}: ${name} calls operations by method name, which this test cannot see; use ${name}Client and commands`);
    }
  }
  // An AWS command reaching this file some other way (a re-export, a require) would go uncounted.
  for (const m of text.matchAll(/new\s+(\w+Command)\s*\(/g)) {
    const local = m[1] ?? "";
    if (bindings.has(local)) continue;
    const owner = Object.keys(CLIENT_EXPORTS).find((pkg) => CLIENT_EXPORTS[pkg]?.has(local));
    if (owner !== undefined) problems.push(`${file}: new ${local}( looks like ${owner}'s command but is not imported from it`);
  }
  return { actions, problems };
}

/** `DynamoDB`, `LakeFormation`, ...: the class whose methods wrap every command of the package. */
function isAggregatedClient(pkg: string, name: string): boolean {
  const service = pkg.replace("@aws-sdk/client-", "").replace(/-/g, "");
  return name.toLowerCase() === service;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

function codeActions(): Scan {
  const actions = new Set<string>();
  const problems: string[] = [];
  for (const file of sourceFiles(join(ROOT, "src"))) {
    const scan = scanSource(relative(ROOT, file), readFileSync(file, "utf8"));
    for (const a of scan.actions) actions.add(a);
    problems.push(...scan.problems);
  }
  return { actions, problems };
}

interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
}

function policyStatements(file = "iam-policy.json"): PolicyStatement[] {
  const policy = JSON.parse(readFileSync(join(ROOT, "docs", file), "utf8")) as { Version?: string; Statement?: PolicyStatement[] };
  expect(policy.Version).toBe("2012-10-17");
  expect(Array.isArray(policy.Statement)).toBe(true);
  return policy.Statement ?? [];
}

function policyActions(file?: string): string[] {
  return policyStatements(file).flatMap((s) => (Array.isArray(s.Action) ? s.Action : s.Action === undefined ? [] : [s.Action]));
}

const sorted = (values: Iterable<string>) => [...values].sort();

describe("the scan of the code", () => {
  it("finds commands by import source, follows aliases, skips type imports, expands waiters and flags what it cannot see", () => {
    const text = `
      import { GetItemCommand, UpdateItemCommand as Update, waitUntilTableExists, type PutItemCommand } from "@aws-sdk/client-dynamodb";
      import type { ListLFTagsCommand } from "@aws-sdk/client-lakeformation";
      import { ExecuteStatementCommand } from "@aws-sdk/client-redshift-data";
      import { Glue } from "@aws-sdk/client-glue";
      import { ListBucketsCommand } from "@aws-sdk/client-s3";
      import { GetTablesCommand } from "./aws-commands.js";
      import { PlanCommand } from "./cli.js";
      await client.send(new GetItemCommand({}));
      await client.send(new Update({}));
      await waitUntilTableExists({ client }, {});
      let x: PutItemCommand; let y: ListLFTagsCommand;
      void ExecuteStatementCommand; // imported and mentioned, never constructed
      new Glue({}).getTables({});
      new ListBucketsCommand({}); new GetTablesCommand({}); new PlanCommand();
    `;
    const scan = scanSource("sample.ts", text);
    expect(sorted(scan.actions)).toEqual(["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(scan.problems).toEqual([
      "sample.ts: Glue calls operations by method name, which this test cannot see; use GlueClient and commands",
      "sample.ts: ListBucketsCommand comes from @aws-sdk/client-s3, which has no IAM prefix in this test; add it",
      "sample.ts: new GetTablesCommand( looks like @aws-sdk/client-glue's command but is not imported from it",
    ]);
  });
});

describe("docs/iam-policy.json", () => {
  const code = codeActions();

  it("can read every AWS call in src/", () => {
    expect(code.problems).toEqual([]);
    // The catalog source is committed: if the scan stops seeing it, the scan is broken.
    expect(sorted(code.actions)).toEqual(expect.arrayContaining(["glue:GetTables", "lakeformation:ListPermissions"]));
  });

  it("allows exactly the operations the code calls at run time and the actions they depend on, for every service the code calls", () => {
    const prefixes = new Set(Object.values(IAM_PREFIX));
    const allowed = policyActions().filter((a) => prefixes.has(a.split(":")[0] ?? ""));
    expect(new Set(allowed).size, "an action listed twice").toBe(allowed.length);
    const runtime = [...code.actions].filter((a) => !SETUP_ONLY_ACTIONS.includes(a) && !ALWAYS_ALLOWED_ACTIONS.includes(a));
    const needed = new Set([...runtime, ...runtime.flatMap((a) => DEPENDENT_ACTIONS[a] ?? [])]);
    expect({ missing: sorted([...needed].filter((a) => !allowed.includes(a))), extra: sorted(allowed.filter((a) => !needed.has(a))) }).toEqual({
      missing: [],
      extra: [],
    });
  });

  it("allows beyond that only the credential actions the Data API calls on the task's behalf", () => {
    const prefixes = new Set(Object.values(IAM_PREFIX));
    const others = policyActions().filter((a) => !prefixes.has(a.split(":")[0] ?? ""));
    expect(sorted(others)).toEqual(sorted(CREDENTIAL_ACTIONS));
  });

  it("lets Lake Formation's tag reads check Glue as the caller: glue:GetDatabase and glue:GetTable beside the list calls", () => {
    expect(code.actions.has("lakeformation:GetResourceLFTags")).toBe(true);
    expect(policyActions()).toEqual(expect.arrayContaining(["glue:GetDatabase", "glue:GetTable", "glue:GetDatabases", "glue:GetTables"]));
  });

  it("checks the Lake Formation administrator settings at start-up: GetDataLakeSettings allowed, GetCallerIdentity needs no statement", () => {
    expect(code.actions.has("lakeformation:GetDataLakeSettings")).toBe(true);
    expect(code.actions.has("sts:GetCallerIdentity")).toBe(true);
    expect(policyActions()).toContain("lakeformation:GetDataLakeSettings");
    expect(policyActions()).not.toContain("sts:GetCallerIdentity");
  });

  it("leaves the lease table's set-up out: no command creates the table, a policy of its own allows it", () => {
    expect(sorted(SETUP_ONLY_ACTIONS.filter((a) => code.actions.has(a)))).toEqual(sorted(SETUP_ONLY_ACTIONS));
    const callers = sourceFiles(join(ROOT, "src")).filter((file) => /(?<!function )\bensureLeaseTable\(/.test(readFileSync(file, "utf8")));
    expect(callers.map((f) => relative(ROOT, f)), "src/ code that creates the lease table at run time").toEqual([]);
    expect(policyActions().filter((a) => SETUP_ONLY_ACTIONS.includes(a))).toEqual([]);
    expect(sorted(policyActions("iam-policy-lease-table-setup.json"))).toEqual(sorted(SETUP_ONLY_ACTIONS));
  });

  it.each(["iam-policy.json", "iam-policy-lease-table-setup.json"])("%s only allows, names every action in full and scopes every statement", (file) => {
    for (const statement of policyStatements(file)) {
      expect(statement.Effect, statement.Sid).toBe("Allow");
      expect(statement.NotAction, statement.Sid).toBeUndefined();
      expect(statement.Resource, statement.Sid).toBeDefined();
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      for (const action of actions) expect(action, statement.Sid).toMatch(/^[a-z-]+:[A-Za-z]+$/);
    }
  });
});
