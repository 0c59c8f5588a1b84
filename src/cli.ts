#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { serializeSnapshot, snapshotFormatOf } from "./catalog/snapshot.js";
import { loadConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { planJsonText, planText } from "./core/plan-report.js";
import { describeError, ERROR_CODES, exitCodeOf, SyncError } from "./errors.js";
import { createLogger, type Logger } from "./log.js";
import { computePlan } from "./run/compute-plan.js";
import { reconcile, type RunSummary } from "./run/reconcile.js";
import { openLock, openSource, openTarget } from "./run/wiring.js";
import { runMigrations } from "./warehouse/migrate.js";

const USAGE = `Usage: lf-redshift-sync <command> [options]

Commands:
  plan [--format text|json] [--force]   show what apply would change (read-only)
  apply [--yes] [--force]                apply the plan (asks first unless --yes)
  reconcile [--force]                    the scheduled task: migrate, lease, plan, apply, record
  migrate                                create or upgrade the state schema
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

export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      format: { type: "string" },
      out: { type: "string" },
      yes: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, sub] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 1 : 0;
  }
  const configPath = values.config ?? process.env.LF_SYNC_CONFIG ?? "lf-redshift-sync.yaml";
  switch (command) {
    case "plan":
      return planCommand(await loadConfig(configPath), formatOption(values.format, ["text", "json"], "text"), values.force);
    case "apply":
      return applyCommand(await loadConfig(configPath), { yes: values.yes, force: values.force, command: "apply" });
    case "reconcile":
      return applyCommand(await loadConfig(configPath), { yes: true, force: values.force, command: "reconcile" });
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

function formatOption<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new SyncError("CONFIG_INVALID", `--format must be one of ${allowed.join(", ")}`);
  return value as T;
}

async function planCommand(config: Config, format: "text" | "json", force: boolean): Promise<number> {
  const executor = await openTarget(config);
  try {
    const { plan } = await computePlan({ config, source: openSource(config), executor, force });
    process.stdout.write(format === "json" ? planJsonText(plan) : planText(plan, { color: process.stdout.isTTY === true }));
    return 0;
  } finally {
    await executor.close();
  }
}

export async function applyCommand(config: Config, options: { yes: boolean; force: boolean; command: string; logger?: Logger }): Promise<number> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const executor = await openTarget(config);
  const lock = openLock(config);
  const tty = process.stderr.isTTY === true;
  try {
    if (!options.yes && process.stdin.isTTY !== true) {
      throw new SyncError("CONFIG_INVALID", "apply asks for confirmation: run it in a terminal, or pass --yes");
    }
    const summary = await reconcile({
      config,
      source: openSource(config),
      executor,
      lock,
      logger,
      command: options.command,
      force: options.force,
      ...(tty ? { progress: (phase: string) => process.stderr.write(`\r\u001b[K${phase}...`) } : {}),
      ...(tty ? { onBatch: (done: number, total: number) => process.stderr.write(`\r\u001b[Kapplying: ${done}/${total} changes`) } : {}),
      confirm: async (plan) => {
        if (tty) process.stderr.write("\r\u001b[K");
        process.stdout.write(planText(plan, { color: process.stdout.isTTY === true }));
        if (options.yes || !plan.applyable) return true;
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return (await rl.question("\nApply these changes? Only 'yes' is accepted: ")).trim() === "yes";
        } finally {
          rl.close();
        }
      },
    });
    if (tty) process.stderr.write("\r\u001b[K");
    process.stdout.write(`${summaryLine(summary)}\n`);
    return summary.error === null ? 0 : summary.error.exitCode;
  } finally {
    await lock.close();
    await executor.close();
  }
}

export function summaryLine(summary: RunSummary): string {
  const applied = summary.result?.appliedChanges;
  const batches = summary.result?.batches ?? [];
  const parts = [
    `run ${summary.runId} ${summary.status}`,
    `${applied?.grants ?? 0} granted`,
    `${applied?.revokes ?? 0} revoked`,
    `${summary.plan?.summary.pending ?? 0} pending`,
    `${batches.filter((b) => b === "applied").length}/${batches.length} batches`,
    `${summary.durationMs} ms`,
  ];
  if (summary.error !== null) parts.push(`${summary.error.code}: ${describeError(summary.error)}`);
  return parts.join(", ");
}

async function migrateCommand(config: Config): Promise<number> {
  const executor = await openTarget(config);
  try {
    const result = await runMigrations(executor, config.stateSchema);
    process.stdout.write(`applied: ${result.applied.join(", ") || "none"}; already applied: ${result.alreadyApplied.join(", ") || "none"}\n`);
    return 0;
  } finally {
    await executor.close();
  }
}

async function exportCommand(config: Config, out: string | undefined, format: string | undefined): Promise<number> {
  const { snapshot, warnings } = await openSource(config).read();
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const chosen = formatOption(format, ["yaml", "json"], out === undefined ? "yaml" : snapshotFormatOf(out));
  const text = serializeSnapshot(snapshot, chosen);
  if (out === undefined) process.stdout.write(text);
  else await writeFile(out, text, "utf8");
  return 0;
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
