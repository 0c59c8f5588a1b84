/**
 * A synthetic catalog in the shape of DESIGN §6: by default 10k tables x 20 columns in 20
 * databases, 500 policies for 200 principals, which the resolver turns into ~190k grantee-table
 * grants of which ~50k are column subsets. Deterministic: the same options give the same catalog.
 *
 * Shape: `domain` is assigned per database; the other keys per database, and about half of the
 * tables replace them (aws-facts §1.2). Every database says `pii: false`, and a `columnTagRatio`
 * share of columns say `pii: true`, so the half of the policies that ask for `pii: [false]` get
 * column subsets on the tables holding such a column (aws-facts §1.5).
 *
 * CLI: tsx bench/generate.ts --databases 20 --tables 10000 --columns 20 --policies 500 --out catalog.json
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { CatalogSnapshot, DatabaseEntry, Expression, PolicyEntry, TableEntry, TagMap } from "../src/catalog/model.js";
import { serializeSnapshot, snapshotFormatOf } from "../src/catalog/snapshot.js";
import { describeError } from "../src/errors.js";

export interface GenerateOptions {
  readonly databases: number;
  /** Total tables, spread evenly over the databases; wins over `tablesPerDatabase`. */
  readonly tables?: number;
  readonly tablesPerDatabase: number;
  readonly columnsPerTable: number;
  /** Tag keys including `pii`: at least 2 (`pii` and `domain`). */
  readonly tagKeys: number;
  /** Allowed values of each key but `pii` (which has true/false). */
  readonly valuesPerKey: number;
  readonly policies: number;
  readonly principals: number;
  /** Share of columns tagged `pii: true`. */
  readonly columnTagRatio: number;
  readonly seed: number;
}

export const DEFAULT_GENERATE_OPTIONS: GenerateOptions = {
  databases: 20,
  tablesPerDatabase: 500,
  columnsPerTable: 20,
  tagKeys: 4,
  valuesPerKey: 5,
  policies: 500,
  principals: 200,
  columnTagRatio: 0.035,
  seed: 1,
};

const KEY_NAMES = ["pii", "domain", "access", "region", "tier", "stage", "owner"];
const ACCOUNT = "123456789012";
/** Shares of the policies; tuned so that the default catalog has the shape of DESIGN §6. */
const DATABASE_POLICY_SHARE = 0.05;
const NAMED_EXPRESSION_SHARE = 0.1;
const PII_EXCLUDING_SHARE = 0.55;
const TWO_VALUES_SHARE = 0.05;
const TABLE_OVERRIDE_SHARE = 0.5;

export function generateCatalog(options: Partial<GenerateOptions> = {}): CatalogSnapshot {
  const o: GenerateOptions = { ...DEFAULT_GENERATE_OPTIONS, ...options };
  checkOptions(o);
  const random = mulberry32(o.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const keys = Array.from({ length: o.tagKeys }, (_, k) => KEY_NAMES[k] ?? `tag${k}`);
  const valuesOf = (key: string): string[] =>
    key === "pii" ? ["true", "false"] : Array.from({ length: o.valuesPerKey }, (_, v) => `${key}_${v}`);
  const tags = Object.fromEntries(keys.map((key) => [key, valuesOf(key)]));
  const otherKeys = keys.slice(2);

  const totalTables = o.tables ?? o.databases * o.tablesPerDatabase;
  const piiColumn: TagMap = Object.freeze({ pii: "true" });
  const untagged: TagMap = Object.freeze({});
  const columnNames = Array.from({ length: o.columnsPerTable }, (_, c) => (c === o.columnsPerTable - 1 ? "load_date" : `col_${c}`));
  const databases: DatabaseEntry[] = Array.from({ length: o.databases }, (_, d) => {
    const databaseTags: Record<string, string> = { pii: "false", domain: valuesOf("domain")[d % o.valuesPerKey] as string };
    for (const key of otherKeys) databaseTags[key] = pick(valuesOf(key));
    const count = Math.floor(totalTables / o.databases) + (d < totalTables % o.databases ? 1 : 0);
    const tables = Array.from({ length: count }, (_, t): TableEntry => {
      const tableTags: Record<string, string> = {};
      for (const key of otherKeys) if (random() < TABLE_OVERRIDE_SHARE) tableTags[key] = pick(valuesOf(key));
      const columns = columnNames.map((name) => ({ name, tags: random() < o.columnTagRatio ? piiColumn : untagged }));
      return { name: `t_${String(t).padStart(5, "0")}`, tags: tableTags, columns };
    });
    return { name: `db_${String(d).padStart(3, "0")}`, tags: databaseTags, tables };
  });

  /** `domain` and one other key, one value each (sometimes two): about 1/valuesPerKey² of the tables. */
  const tableExpression = (): Record<string, string[]> => {
    const expression: Record<string, string[]> = { domain: [pick(valuesOf("domain"))] };
    if (otherKeys.length > 0) {
      const key = pick(otherKeys);
      const values = new Set([pick(valuesOf(key))]);
      if (random() < TWO_VALUES_SHARE) values.add(pick(valuesOf(key)));
      expression[key] = [...values];
    }
    return expression;
  };
  const expressions: Record<string, Expression> = {};
  for (let e = 0; e < Math.max(1, Math.round(o.policies / 25)); e++) expressions[`named_${e}`] = tableExpression();
  const expressionNames = Object.keys(expressions);

  const principals = Array.from({ length: o.principals }, (_, p) => `arn:aws:iam::${ACCOUNT}:role/bench_role_${String(p).padStart(4, "0")}`);
  const policies = Array.from({ length: o.policies }, (_, i): PolicyEntry => {
    const principal = principals[i % o.principals] as string;
    if (random() < DATABASE_POLICY_SHARE) {
      const permissions = random() < 0.3 ? ["DESCRIBE", "CREATE_TABLE"] : ["DESCRIBE"];
      return { principal, resourceType: "DATABASE", expression: { domain: [pick(valuesOf("domain"))] }, permissions };
    }
    const permissions = pick([["SELECT"], ["SELECT"], ["SELECT"], ["SELECT"], ["SELECT"], ["SELECT", "DESCRIBE"], ["SELECT", "INSERT", "DELETE"], ["ALL"]]);
    if (random() < NAMED_EXPRESSION_SHARE) return { principal, resourceType: "TABLE", expressionName: pick(expressionNames), permissions };
    const expression = tableExpression();
    if (random() < PII_EXCLUDING_SHARE) expression.pii = ["false"];
    return { principal, resourceType: "TABLE", expression, permissions };
  });

  return { catalogId: ACCOUNT, tags, databases, expressions, policies };
}

function checkOptions(o: GenerateOptions): void {
  const counts: (keyof GenerateOptions)[] = ["databases", "tablesPerDatabase", "columnsPerTable", "tagKeys", "valuesPerKey", "policies", "principals"];
  for (const name of counts) {
    const value = o[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${String(value)}`);
  }
  if (o.tables !== undefined && (!Number.isInteger(o.tables) || o.tables < 0)) throw new RangeError(`tables must be a non-negative integer, not ${o.tables}`);
  if (o.tagKeys < 2) throw new RangeError("tagKeys must be at least 2 (pii and domain)");
  if (!(o.columnTagRatio >= 0 && o.columnTagRatio <= 1)) throw new RangeError("columnTagRatio must be between 0 and 1");
  if (!Number.isInteger(o.seed)) throw new RangeError("seed must be an integer");
}

/** A small seeded PRNG (mulberry32): the catalog must not change between runs. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLI_OPTIONS = {
  databases: "databases",
  tables: "tables",
  "tables-per-database": "tablesPerDatabase",
  columns: "columnsPerTable",
  "tag-keys": "tagKeys",
  "values-per-key": "valuesPerKey",
  policies: "policies",
  principals: "principals",
  "column-tag-ratio": "columnTagRatio",
  seed: "seed",
} as const satisfies Record<string, keyof GenerateOptions>;

async function main(args: readonly string[]): Promise<void> {
  const flags: Record<string, { type: "string" }> = { out: { type: "string" } };
  for (const flag of Object.keys(CLI_OPTIONS)) flags[flag] = { type: "string" };
  const { values } = parseArgs({ args: [...args], options: flags, strict: true });
  const options: Record<string, number> = {};
  for (const [flag, name] of Object.entries(CLI_OPTIONS)) {
    const text = values[flag];
    if (typeof text !== "string") continue;
    const value = Number(text);
    if (text.trim() === "" || Number.isNaN(value)) throw new RangeError(`--${flag} needs a number, not ${JSON.stringify(text)}`);
    options[name] = value;
  }
  const snapshot = generateCatalog(options);
  const out = typeof values.out === "string" ? values.out : undefined;
  const text = serializeSnapshot(snapshot, out === undefined ? "json" : snapshotFormatOf(out));
  if (out === undefined) process.stdout.write(text);
  else await writeFile(out, text);
  const tables = snapshot.databases.reduce((n, d) => n + d.tables.length, 0);
  process.stderr.write(`${out ?? "stdout"}: ${snapshot.databases.length} databases, ${tables} tables, ${snapshot.policies.length} policies\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`generate: ${describeError(error)}\n`);
    process.exitCode = 1;
  });
}
