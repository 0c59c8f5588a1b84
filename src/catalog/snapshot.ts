/**
 * The snapshot file (DESIGN §4.1): what the `file` source reads and `snapshot export` writes.
 * Parsing happens in two passes, like pgbedrock's verify_spec: zod checks the shape, then the
 * semantic pass checks names and tags against the ontology. Each pass collects every problem,
 * each naming its path, and the parse fails once with all of them.
 */
import { extname } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { SyncError } from "../errors.js";
import type { CatalogSnapshot, ColumnEntry, DatabaseEntry, Expression, PolicyEntry, TableEntry, TagMap } from "./model.js";

export type SnapshotFormat = "yaml" | "json";

/** Lake Formation's `Permission` enum (aws-facts §1.4). */
export const LF_PERMISSIONS: ReadonlySet<string> = new Set([
  "ALL", "SELECT", "ALTER", "DROP", "DELETE", "INSERT", "DESCRIBE", "CREATE_DATABASE", "CREATE_TABLE",
  "DATA_LOCATION_ACCESS", "CREATE_LF_TAG", "ASSOCIATE", "GRANT_WITH_LF_TAG_EXPRESSION",
  "CREATE_LF_TAG_EXPRESSION", "CREATE_CATALOG", "SUPER_USER",
]);

/** Listed in the error message; the rest are counted, so a file broken everywhere stays readable. */
const MAX_LISTED_PROBLEMS = 100;

const nonEmpty = z.string().min(1);
/** YAML reads `PII: true` as a boolean: take scalars as their text, so both spellings work. */
const scalarText = (error: string) => z.union([z.string(), z.number(), z.boolean()], { error }).transform(String);
const tagValue = scalarText("a tag value must be a string");
const tagAssignments = z.record(nonEmpty, scalarText("expected one tag value: a resource holds one value per key (aws-facts §1.2)"));
const expressionValues = z.union([z.array(tagValue).min(1), tagValue.transform((value) => [value])]);
const expressionSchema = z.record(nonEmpty, expressionValues);

const columnSchema = z.strictObject({ name: nonEmpty, tags: tagAssignments.optional() });
const tableSchema = z.strictObject({ name: nonEmpty, tags: tagAssignments.optional(), columns: z.array(columnSchema) });
const databaseSchema = z.strictObject({ name: nonEmpty, tags: tagAssignments.optional(), tables: z.array(tableSchema).default([]) });
const policySchema = z.strictObject({
  principal: nonEmpty,
  resourceType: z.string().transform((type) => type.toUpperCase()).pipe(z.enum(["DATABASE", "TABLE"])),
  expression: expressionSchema.optional(),
  expressionName: nonEmpty.optional(),
  permissions: z.array(nonEmpty),
  permissionsWithGrantOption: z.array(nonEmpty).optional(),
  condition: z.string().optional(),
});

/** The raw file, before the semantic pass and normalisation. */
export const snapshotFileSchema = z.strictObject({
  catalogId: z.string({ error: "the catalog id must be a quoted string (an unquoted number loses leading zeros)" }).optional(),
  tags: z.record(nonEmpty, z.array(tagValue).min(1, "a tag key needs at least one allowed value")).default({}),
  databases: z.array(databaseSchema),
  expressions: z.record(nonEmpty, expressionSchema).default({}),
  policies: z.array(policySchema).default([]),
});

type SnapshotFile = z.infer<typeof snapshotFileSchema>;
type Path = readonly (string | number)[];

interface Problem {
  readonly path: Path;
  readonly message: string;
}

/** Parses and validates a snapshot file's text into the normalised model (aws-facts §1.1: tags lower-cased). */
export function parseSnapshot(text: string, format: SnapshotFormat, origin: string): CatalogSnapshot {
  const raw = parseText(text, format, origin);
  const shape = snapshotFileSchema.safeParse(raw);
  const reserved = reservedKeyProblems(raw);
  if (!shape.success || reserved.length > 0) {
    fail(origin, [...(shape.error?.issues.flatMap(issueProblems) ?? []), ...reserved]);
  }
  const problems = semanticProblems(shape.data);
  if (problems.length > 0) fail(origin, problems);
  return normalise(shape.data);
}

/** Deterministic text of a snapshot (map keys sorted, empty tag maps left out); parseSnapshot reads it back. */
export function serializeSnapshot(snapshot: CatalogSnapshot, format: SnapshotFormat): string {
  const file = toFile(snapshot);
  return format === "json" ? `${JSON.stringify(file, null, 2)}\n` : stringifyYaml(file, { lineWidth: 0 });
}

/** The format of a snapshot file, by its extension. */
export function snapshotFormatOf(path: string): SnapshotFormat {
  const extension = extname(path).toLowerCase();
  if (extension === ".json") return "json";
  if (extension === ".yaml" || extension === ".yml") return "yaml";
  throw new SyncError("SNAPSHOT_INVALID", `${path}: cannot tell the snapshot format; name the file *.json, *.yaml or *.yml`);
}

function parseText(text: string, format: SnapshotFormat, origin: string): unknown {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  try {
    return format === "json" ? JSON.parse(body) : parseYaml(body);
  } catch (error) {
    // The first line only: the YAML library appends the offending source lines.
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? "").replace(/:$/, "") : String(error);
    throw new SyncError("SNAPSHOT_INVALID", `${origin}: not valid ${format.toUpperCase()}: ${reason}`, { cause: error });
  }
}

/** zod skips an own `__proto__` key without a word; a tag silently lost could widen access, so report it. */
function reservedKeyProblems(root: unknown): Problem[] {
  const problems: Problem[] = [];
  const path: (string | number)[] = [];
  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        path.push(index);
        visit(value[index]);
        path.pop();
      }
      return;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      path.push(key);
      if (key === "__proto__") problems.push({ path: [...path], message: "reserved name" });
      else visit((value as Record<string, unknown>)[key]);
      path.pop();
    }
  };
  visit(root);
  return problems;
}

/** One problem per unknown field, at the field's own path. */
function issueProblems(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path as Path;
  if (issue.code !== "unrecognized_keys") return [{ path, message: issue.message }];
  return issue.keys.map((key) => ({ path: [...path, key], message: "unknown field" }));
}

function fail(origin: string, problems: readonly Problem[]): never {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  - ${z.core.toDotPath([...p.path]) || "(top level)"}: ${p.message}`);
  if (problems.length > MAX_LISTED_PROBLEMS) listed.push(`  ... and ${problems.length - MAX_LISTED_PROBLEMS} more`);
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  throw new SyncError("SNAPSHOT_INVALID", `${origin}: invalid snapshot (${count}):\n${listed.join("\n")}`);
}

const lower = (text: string): string => text.toLowerCase();

/** key (lower-cased) -> allowed values (lower-cased). */
type Ontology = ReadonlyMap<string, ReadonlySet<string>>;

function semanticProblems(file: SnapshotFile): Problem[] {
  const problems: Problem[] = [];
  const report = (path: Path, message: string): void => {
    problems.push({ path, message });
  };
  const ontology = checkOntology(file.tags, report);
  checkDatabases(file.databases, ontology, report);
  for (const [name, expression] of Object.entries(file.expressions)) {
    if (Object.keys(expression).length === 0) report(["expressions", name], "an expression needs at least one tag key");
    checkExpression(expression, ["expressions", name], ontology, report);
  }
  file.policies.forEach((policy, index) => checkPolicy(policy, ["policies", index], file, ontology, report));
  return problems;
}

type Report = (path: Path, message: string) => void;

function checkOntology(tags: SnapshotFile["tags"], report: Report): Ontology {
  const ontology = new Map<string, Set<string>>();
  const spelling = new Map<string, string>();
  for (const [key, values] of Object.entries(tags)) {
    const folded = lower(key);
    const earlier = spelling.get(folded);
    if (earlier !== undefined) {
      report(["tags", key], `tag key defined twice (also as "${earlier}"; keys compare case-insensitively, aws-facts §1.1)`);
      continue;
    }
    spelling.set(folded, key);
    ontology.set(folded, new Set(values.map(lower)));
  }
  return ontology;
}

function checkDatabases(databases: SnapshotFile["databases"], ontology: Ontology, report: Report): void {
  checkUniqueNames(databases, ["databases"], "database", report);
  databases.forEach((database, d) => {
    const databasePath = ["databases", d];
    checkAssignments(database.tags, [...databasePath, "tags"], ontology, report);
    checkUniqueNames(database.tables, [...databasePath, "tables"], "table", report);
    database.tables.forEach((table, t) => {
      const tablePath = [...databasePath, "tables", t];
      checkAssignments(table.tags, [...tablePath, "tags"], ontology, report);
      checkUniqueNames(table.columns, [...tablePath, "columns"], "column", report);
      table.columns.forEach((column, c) => {
        if (column.tags !== undefined) checkAssignments(column.tags, [...tablePath, "columns", c, "tags"], ontology, report);
      });
    });
  });
}

/** Glue and Redshift fold names to lower case, so `Orders` and `orders` are the same object. */
function checkUniqueNames(items: readonly { name: string }[], path: Path, what: string, report: Report): void {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const folded = lower(item.name);
    const first = seen.get(folded);
    if (first === undefined) seen.set(folded, index);
    else report([...path, index, "name"], `duplicate ${what} name "${item.name}" (also at ${z.core.toDotPath([...path, first])})`);
  });
}

function checkAssignments(tags: Record<string, string> | undefined, path: Path, ontology: Ontology, report: Report): void {
  if (tags === undefined) return;
  const spelling = new Map<string, string>();
  for (const [key, value] of Object.entries(tags)) {
    const folded = lower(key);
    const earlier = spelling.get(folded);
    if (earlier !== undefined) {
      report([...path, key], `tag key assigned twice (also as "${earlier}"); a resource holds one value per key (aws-facts §1.2)`);
      continue;
    }
    spelling.set(folded, key);
    checkTagValue(key, value, [...path, key], ontology, report);
  }
}

function checkTagValue(key: string, value: string, path: Path, ontology: Ontology, report: Report): void {
  const allowed = ontology.get(lower(key));
  if (allowed === undefined) report(path, `unknown tag key "${key}"`);
  else if (!allowed.has(lower(value))) report(path, `value "${value}" is not allowed for tag key "${key}" (allowed: ${listed(allowed)})`);
}

function listed(values: ReadonlySet<string>): string {
  const all = [...values];
  const shown = all.slice(0, 10).join(", ");
  return all.length > 10 ? `${shown}, ... ${all.length - 10} more` : shown;
}

/** A value `*` passes here: its meaning in a policy is undocumented, and the core reports it (aws-facts §1.3). */
function checkExpression(expression: Record<string, string[]>, path: Path, ontology: Ontology, report: Report): void {
  const spelling = new Map<string, string>();
  for (const [key, values] of Object.entries(expression)) {
    const folded = lower(key);
    const earlier = spelling.get(folded);
    if (earlier !== undefined) {
      report([...path, key], `tag key named twice in one expression (also as "${earlier}")`);
      continue;
    }
    spelling.set(folded, key);
    values.forEach((value, index) => {
      if (value !== "*") checkTagValue(key, value, [...path, key, index], ontology, report);
      else if (!ontology.has(folded)) report([...path, key], `unknown tag key "${key}"`);
    });
  }
}

function checkPolicy(policy: SnapshotFile["policies"][number], path: Path, file: SnapshotFile, ontology: Ontology, report: Report): void {
  const hasInline = policy.expression !== undefined && Object.keys(policy.expression).length > 0;
  const hasName = policy.expressionName !== undefined;
  // An empty inline list next to a name is how Lake Formation reports a named expression (aws-facts §1.6, trap 3).
  if (hasInline && hasName) report(path, "set either expression or expressionName, not both");
  if (!hasInline && !hasName) report(path, "set expression (a non-empty key -> values map) or expressionName");
  if (hasName && !Object.hasOwn(file.expressions, policy.expressionName ?? "")) {
    report([...path, "expressionName"], `expression "${policy.expressionName}" is not defined in expressions`);
  }
  if (policy.expression !== undefined) checkExpression(policy.expression, [...path, "expression"], ontology, report);
  checkPermissions(policy.permissions, [...path, "permissions"], report);
  if (policy.permissionsWithGrantOption !== undefined) {
    checkPermissions(policy.permissionsWithGrantOption, [...path, "permissionsWithGrantOption"], report);
  }
}

function checkPermissions(permissions: readonly string[], path: Path, report: Report): void {
  permissions.forEach((permission, index) => {
    if (!LF_PERMISSIONS.has(permission.toUpperCase())) report([...path, index], `unknown Lake Formation permission "${permission}"`);
  });
}

function normalise(file: SnapshotFile): CatalogSnapshot {
  const snapshot: CatalogSnapshot = {
    tags: Object.fromEntries(Object.entries(file.tags).map(([key, values]) => [lower(key), distinct(values.map(lower))])),
    databases: file.databases.map(normaliseDatabase),
    expressions: Object.fromEntries(Object.entries(file.expressions).map(([name, expression]) => [name, normaliseExpression(expression)])),
    policies: file.policies.map(normalisePolicy),
  };
  return file.catalogId === undefined ? snapshot : { catalogId: file.catalogId, ...snapshot };
}

const EMPTY_TAGS: TagMap = Object.freeze({});

function normaliseTags(tags: Record<string, string> | undefined): TagMap {
  if (tags === undefined) return EMPTY_TAGS;
  const entries = Object.entries(tags);
  return entries.length === 0 ? EMPTY_TAGS : Object.fromEntries(entries.map(([key, value]) => [lower(key), lower(value)]));
}

function normaliseDatabase(database: SnapshotFile["databases"][number]): DatabaseEntry {
  return { name: database.name, tags: normaliseTags(database.tags), tables: database.tables.map(normaliseTable) };
}

function normaliseTable(table: SnapshotFile["databases"][number]["tables"][number]): TableEntry {
  const columns = table.columns.map((column): ColumnEntry => ({ name: column.name, tags: normaliseTags(column.tags) }));
  return { name: table.name, tags: normaliseTags(table.tags), columns };
}

function normaliseExpression(expression: Record<string, string[]>): Expression {
  return Object.fromEntries(Object.entries(expression).map(([key, values]) => [lower(key), distinct(values.map(lower))]));
}

function normalisePolicy(policy: SnapshotFile["policies"][number]): PolicyEntry {
  const upper = (permissions: readonly string[]): string[] => distinct(permissions.map((p) => p.toUpperCase()));
  // The name wins over an empty inline list (aws-facts §1.6).
  const target = policy.expressionName !== undefined
    ? { expressionName: policy.expressionName }
    : { expression: normaliseExpression(policy.expression ?? {}) };
  return {
    principal: policy.principal,
    resourceType: policy.resourceType,
    ...target,
    permissions: upper(policy.permissions),
    ...(policy.permissionsWithGrantOption === undefined ? {} : { permissionsWithGrantOption: upper(policy.permissionsWithGrantOption) }),
    ...(policy.condition === undefined ? {} : { condition: policy.condition }),
  };
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The file form of a model: fixed key order, sorted maps, empty tag maps omitted. */
function toFile(snapshot: CatalogSnapshot): Record<string, unknown> {
  return {
    ...(snapshot.catalogId === undefined ? {} : { catalogId: snapshot.catalogId }),
    tags: sortedMap(snapshot.tags),
    databases: snapshot.databases.map((database) => ({
      name: database.name,
      ...tagsField(database.tags),
      tables: database.tables.map((table) => ({
        name: table.name,
        ...tagsField(table.tags),
        columns: table.columns.map((column) => ({ name: column.name, ...tagsField(column.tags) })),
      })),
    })),
    expressions: sortedMap(Object.fromEntries(Object.entries(snapshot.expressions).map(([name, e]) => [name, sortedMap(e)]))),
    policies: snapshot.policies.map((policy) => ({
      principal: policy.principal,
      resourceType: policy.resourceType,
      ...(policy.expressionName === undefined ? { expression: sortedMap(policy.expression ?? {}) } : { expressionName: policy.expressionName }),
      permissions: [...policy.permissions],
      ...(policy.permissionsWithGrantOption === undefined ? {} : { permissionsWithGrantOption: [...policy.permissionsWithGrantOption] }),
      ...(policy.condition === undefined ? {} : { condition: policy.condition }),
    })),
  };
}

function tagsField(tags: TagMap): { tags?: Record<string, string> } {
  return Object.keys(tags).length === 0 ? {} : { tags: sortedMap(tags) };
}

function sortedMap<T>(map: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
