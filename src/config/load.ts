/**
 * Loads the config file: YAML (JSON is YAML), validated by src/config/schema.ts. Every problem is
 * collected with its path and reported in one CONFIG_INVALID error (pgbedrock's verify_spec);
 * the result is deep-frozen so nothing downstream can change it (fastify's initial config).
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { SyncError } from "../errors.js";
import { snapshotFormatOf } from "../catalog/snapshot.js";
import { configSchema, type Config } from "./schema.js";

type Env = Readonly<Record<string, string | undefined>>;
type Path = readonly PropertyKey[];

interface Problem {
  readonly path: Path;
  readonly message: string;
}

const ENV_REFERENCE = /^env:(.*)$/s;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function loadConfig(path: string, env: Env = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SyncError("CONFIG_INVALID", `cannot read the config file ${path}`, { cause: error });
  }
  let object: unknown;
  try {
    object = parseYaml(text);
  } catch (error) {
    // The first line only: the YAML library appends the offending source line, which may hold a secret.
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? "").replace(/:$/, "") : "unreadable";
    throw new SyncError("CONFIG_INVALID", `${path}: not valid YAML: ${reason}`, { cause: error });
  }
  try {
    return parseConfig(object, dirname(resolve(path)), env);
  } catch (error) {
    if (error instanceof SyncError) throw new SyncError(error.code, `${path}: ${error.message}`, { cause: error.cause });
    throw error;
  }
}

/** Validates a config object; relative paths are resolved against `baseDir`, `env:NAME` values from `env`. */
export function parseConfig(object: unknown, baseDir: string, env: Env = process.env): Config {
  const parsed = configSchema.safeParse(object);
  if (!parsed.success) fail(parsed.error.issues.flatMap((issue) => issueProblems(issue, [])));
  const config = parsed.data;
  const problems: Problem[] = [];
  resolvePaths(config, baseDir, problems);
  resolveSecrets(config, env, problems);
  if (problems.length > 0) fail(problems);
  return deepFreeze(config);
}

function fail(problems: readonly Problem[]): never {
  const lines = problems.map((p) => `  - ${z.core.toDotPath([...p.path]) || "(top level)"}: ${p.message}`);
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  throw new SyncError("CONFIG_INVALID", `invalid config (${count}):\n${lines.join("\n")}`);
}

/**
 * Flattens zod's issues. The target is a plain union, so zod answers "Invalid input" with one
 * issue list per variant: keep the lists of the variants whose `kind` matched, or else say which
 * kinds exist. Zod's messages never echo the value, so secrets stay out of them.
 */
function issueProblems(issue: z.core.$ZodIssue, prefix: Path): Problem[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ path: [...path, key], message: "unknown field" }));
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [{ path, message: issue.message }];
  const isKindMismatch = (i: z.core.$ZodIssue): boolean => i.code === "invalid_value" && i.path.length === 1 && i.path[0] === "kind";
  const kinds = issue.errors.flatMap((variant) => variant.filter(isKindMismatch).flatMap((i) => (i.code === "invalid_value" ? i.values : [])));
  if (kinds.length === 0) return [{ path, message: issue.message }];
  const matching = issue.errors.filter((variant) => !variant.some(isKindMismatch));
  if (matching.length === 0) return [{ path: [...path, "kind"], message: `expected one of ${kinds.map((k) => JSON.stringify(k)).join(", ")}` }];
  return matching.flatMap((variant) => variant.flatMap((i) => issueProblems(i, path)));
}

function resolvePaths(config: Config, baseDir: string, problems: Problem[]): void {
  if (config.source.kind === "file") {
    config.source.path = resolve(baseDir, config.source.path);
    try {
      snapshotFormatOf(config.source.path);
    } catch (error) {
      problems.push({ path: ["source", "path"], message: error instanceof Error ? error.message : String(error) });
    }
  }
  if (config.target.kind === "pglite" && config.target.dataDir !== undefined) {
    config.target.dataDir = resolve(baseDir, config.target.dataDir);
  }
}

/** The fields that may say `env:NAME`; the message names the variable, never its value. */
function resolveSecrets(config: Config, env: Env, problems: Problem[]): void {
  const resolveField = (path: Path, value: string | undefined, set: (value: string) => void): void => {
    const reference = value === undefined ? null : ENV_REFERENCE.exec(value);
    if (reference === null) return;
    const name = reference[1] ?? "";
    const resolved = ENV_NAME.test(name) ? env[name] : undefined;
    if (!ENV_NAME.test(name)) problems.push({ path, message: "env: must be followed by a variable name (letters, digits, _)" });
    else if (resolved === undefined || resolved === "") problems.push({ path, message: `environment variable ${name} is not set` });
    else set(resolved);
  };
  if (config.target.kind === "postgres") {
    const target = config.target;
    resolveField(["target", "url"], target.url, (value) => (target.url = value));
  }
  const server = config.server;
  if (server !== undefined) {
    const webhook = server.webhook;
    resolveField(["server", "webhook", "apiKey"], webhook.apiKey, (value) => (webhook.apiKey = value));
    resolveField(["server", "webhook", "basicPassword"], webhook.basicPassword, (value) => (webhook.basicPassword = value));
    resolveField(["server", "reportToken"], server.reportToken, (value) => (server.reportToken = value));
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
