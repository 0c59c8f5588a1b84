import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { quoteIdent, quoteLiteral } from "../core/sql.js";
import { SyncError } from "../errors.js";
import type { SqlExecutor } from "./executor.js";
import { stateTableExists, timestampLiteral } from "./state/sql.js";

/**
 * Creates and upgrades the state schema (DESIGN §4.3) from numbered files in `migrations/`, through
 * the same executor as everything else. Each file and its row in `<schema>.migrations` commit in one
 * transaction; a file changed after it ran is refused rather than silently skipped.
 */

/** src/warehouse/ under tsx/vitest and dist/warehouse/ after tsc are both two levels below the package root. */
const DEFAULT_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

export interface MigrationOptions {
  /** Folder of the numbered `.sql` files; tests point it at a copy. */
  readonly dir?: string;
  /** applied_at of the rows written now. */
  readonly at?: Date;
}

interface MigrationFile {
  readonly version: string;
  readonly name: string;
  readonly checksum: string;
  readonly text: string;
}

const FILE_NAME = /^(\d+)_[^/]*\.sql$/;

async function migrationFiles(dir: string): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => FILE_NAME.test(name));
  const files = await Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(dir, name), "utf8");
      const version = FILE_NAME.exec(name)?.[1] ?? name;
      return { version, name, text, checksum: createHash("sha256").update(text).digest("hex") };
    }),
  );
  files.sort((a, b) => Number(a.version) - Number(b.version));
  for (const [index, file] of files.entries()) {
    if (index > 0 && Number(files[index - 1]?.version) === Number(file.version)) {
      throw new SyncError("MIGRATION_FAILED", `two migration files share version ${file.version} in ${dir}`);
    }
  }
  return files;
}

/** Statements of one of our files: `--` comment lines dropped, split on `;` at the end of a line. */
export function migrationStatements(text: string, stateSchema: string): string[] {
  const body = text
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .replaceAll("${schema}", quoteIdent(stateSchema));
  return body
    .split(/;[ \t]*\r?$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== "");
}

/** Looked up in pg_namespace: information_schema.schemata lists only schemas the user has a privilege on. */
export async function stateSchemaExists(executor: SqlExecutor, stateSchema: string): Promise<boolean> {
  const rows = await executor.query(
    `SELECT 1 AS present FROM pg_catalog.pg_namespace WHERE nspname = ${quoteLiteral(stateSchema, executor.dialect)}`,
  );
  return rows.length > 0;
}

/** version -> checksum of the applied migrations; empty when the schema or its table is missing. */
async function appliedChecksums(executor: SqlExecutor, stateSchema: string): Promise<Map<string, string>> {
  if (!(await stateTableExists(executor, stateSchema, "migrations"))) return new Map();
  const rows = await executor.query(`SELECT version, checksum FROM ${quoteIdent(stateSchema)}.migrations`);
  return new Map(rows.map((row) => [String(row.version), String(row.checksum)]));
}

/** Files not applied yet; refuses when an applied file changed or disappeared. */
function pendingFiles(files: readonly MigrationFile[], applied: ReadonlyMap<string, string>, dir: string): MigrationFile[] {
  const byVersion = new Map(files.map((file) => [file.version, file]));
  for (const [version, checksum] of applied) {
    const file = byVersion.get(version);
    if (file === undefined) {
      throw new SyncError(
        "MIGRATION_FAILED",
        `migration ${version} is recorded as applied but has no file in ${dir}: this version of the service is older than the state schema`,
      );
    }
    if (file.checksum !== checksum) {
      throw new SyncError(
        "MIGRATION_FAILED",
        `migration ${file.name} changed after it was applied (sha256 ${checksum} recorded, ${file.checksum} now): add a new migration instead`,
      );
    }
  }
  return files.filter((file) => !applied.has(file.version));
}

/** Names of the files `runMigrations` would apply; read-only. All of them before the first migrate. */
export async function pendingMigrations(
  executor: SqlExecutor,
  stateSchema: string,
  options: MigrationOptions = {},
): Promise<string[]> {
  const dir = options.dir ?? DEFAULT_DIR;
  const files = await migrationFiles(dir);
  const applied = (await stateSchemaExists(executor, stateSchema)) ? await appliedChecksums(executor, stateSchema) : new Map<string, string>();
  return pendingFiles(files, applied, dir).map((file) => file.name);
}

/** Applies the pending files in order, each with its migrations row in one transaction. Idempotent. */
export async function runMigrations(
  executor: SqlExecutor,
  stateSchema: string,
  options: MigrationOptions = {},
): Promise<{ applied: string[]; alreadyApplied: string[] }> {
  const dir = options.dir ?? DEFAULT_DIR;
  const files = await migrationFiles(dir);
  const schema = quoteIdent(stateSchema);
  await executor.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await executor.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.migrations (version VARCHAR(64) NOT NULL, name VARCHAR(256) NOT NULL, checksum VARCHAR(64) NOT NULL, applied_at TIMESTAMP NOT NULL)`,
  );
  const appliedBefore = await appliedChecksums(executor, stateSchema);
  const pending = pendingFiles(files, appliedBefore, dir);
  const applied: string[] = [];
  for (const file of pending) {
    const literal = (value: string): string => quoteLiteral(value, executor.dialect);
    const record = `INSERT INTO ${schema}.migrations (version, name, checksum, applied_at) VALUES (${literal(file.version)}, ${literal(file.name)}, ${literal(file.checksum)}, ${timestampLiteral(options.at ?? new Date(), executor.dialect)})`;
    try {
      await executor.transaction([...migrationStatements(file.text, stateSchema), record]);
    } catch (error) {
      throw new SyncError("MIGRATION_FAILED", `migration ${file.name} failed and was rolled back: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    applied.push(file.name);
  }
  return { applied, alreadyApplied: files.filter((file) => appliedBefore.has(file.version)).map((file) => file.name) };
}
