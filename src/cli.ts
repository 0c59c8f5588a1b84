#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "./config/load.js";
import { describeError, ERROR_CODES, exitCodeOf, SyncError } from "./errors.js";
import { accessCommand, explainCommand } from "./run/commands/access.js";
import { applyCommand } from "./run/commands/apply.js";
import { formatOption } from "./run/commands/format-option.js";
import { migrateCommand } from "./run/commands/migrate.js";
import { planCommand } from "./run/commands/plan.js";
import { exportCommand } from "./run/commands/snapshot-export.js";

const USAGE = `Usage: lf-redshift-sync <command> [options]

Commands:
  plan [--format text|json] [--force]   show what apply would change (read-only)
  apply [--yes] [--force]                apply the plan (asks first unless --yes)
  reconcile [--force]                    the scheduled task: migrate, lease, plan, apply, record
  migrate                                create or upgrade the state schema
  access [--grantee G] [--schema S] [--table T] [--format text|json|csv]
                                         who can do what now, and which policies and tags say so
  explain --grantee G --table SCHEMA.TABLE [--column C] [--format text|json]
                                         why a grantee can (or can't) read a table or column
  snapshot export [--out FILE] [--format yaml|json]
                                         write the catalog as the source sees it
  serve                                  webhook, plan report, runs, health and metrics
  demo                                   the embedded demo (npm start)

Options:
  --config FILE   config file (default: lf-redshift-sync.yaml, or $LF_SYNC_CONFIG)
  -h, --help

Exit codes: ${Object.entries(ERROR_CODES)
  .map(([code, e]) => [e.exit, code] as const)
  .filter(([exit]) => exit !== 1)
  .map(([exit, code]) => `${exit} ${code}`)
  .join(", ")}, 1 any other error, 0 success.`;

const OPTIONS = {
  config: { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  yes: { type: "boolean", default: false },
  force: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  grantee: { type: "string" },
  schema: { type: "string" },
  table: { type: "string" },
  column: { type: "string" },
} as const;

type Options = ReturnType<typeof parseOptions>["values"];

function parseOptions(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv);
  const [command, sub] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 1 : 0;
  }
  return runCommand(command, sub, values, values.config ?? process.env.LF_SYNC_CONFIG ?? "lf-redshift-sync.yaml");
}

/** Each command lives in run/ (or server/): here only its options are read. */
async function runCommand(command: string, sub: string | undefined, values: Options, configPath: string): Promise<number> {
  switch (command) {
    case "plan":
      return planCommand(await loadConfig(configPath), formatOption(values.format, ["text", "json"], "text"), values.force);
    case "apply":
      return applyCommand(await loadConfig(configPath), { yes: values.yes, force: values.force, command: "apply" });
    case "reconcile":
      return applyCommand(await loadConfig(configPath), { yes: true, force: values.force, command: "reconcile" });
    case "access":
      return accessCommand(await loadConfig(configPath), formatOption(values.format, ["text", "json", "csv"], "text"), {
        grantee: values.grantee,
        schema: values.schema,
        table: values.table,
      });
    case "explain":
      if (values.grantee === undefined || values.table === undefined) throw new SyncError("CONFIG_INVALID", "explain needs --grantee G and --table SCHEMA.TABLE");
      return explainCommand(await loadConfig(configPath), formatOption(values.format, ["text", "json"], "text"), {
        grantee: values.grantee,
        table: values.table,
        column: values.column,
      });
    case "migrate":
      return migrateCommand(await loadConfig(configPath));
    case "snapshot":
      if (sub !== "export") throw new SyncError("CONFIG_INVALID", `unknown command "snapshot ${sub ?? ""}": did you mean "snapshot export"?`);
      return exportCommand(await loadConfig(configPath), values.out, values.format);
    case "serve": {
      const { serveCommand } = await import("./server/serve.js");
      return serveCommand(await loadConfig(configPath));
    }
    case "demo": {
      const { demoCommand } = await import("./run/demo.js");
      return demoCommand(configPath === "lf-redshift-sync.yaml" ? "config/demo.yaml" : configPath);
    }
    default:
      throw new SyncError("CONFIG_INVALID", `unknown command "${command}"\n${USAGE}`);
  }
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntryPoint) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${describeError(error)}\n`);
      process.exitCode = exitCodeOf(error);
    },
  );
}
