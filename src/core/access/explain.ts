import type { CatalogSnapshot, ColumnEntry, DatabaseEntry, Expression, PolicyEntry, TableEntry } from "../../catalog/model.js";
import type { Grant } from "../grants.js";
import { policyExpression } from "../resolve.js";
import { describeExpression } from "../tags.js";
import { columnTagOrigins, type TagOrigin, tableTagOrigins, tagValues } from "./tag-origins.js";

/** One key of an expression that the object's tags do not satisfy. */
export interface FailingKey {
  readonly key: string;
  readonly allowed: readonly string[];
  /** The object's effective value and where it comes from; null when the object has no such tag. */
  readonly actual: TagOrigin | null;
}

export interface PolicyVerdict {
  readonly principal: string;
  readonly resourceType: PolicyEntry["resourceType"];
  readonly expression: string;
  readonly permissions: readonly string[];
  /** "full": every column matches (table-level permissions); "columns": SELECT on some; "none". */
  readonly outcome: "full" | "columns" | "none" | "skipped";
  readonly matchedColumns: readonly string[];
  /** Why it does not match (evaluated on the table's or the asked column's tags). */
  readonly failing: readonly FailingKey[];
  readonly note?: string;
}

export interface Explanation {
  readonly database: string;
  readonly table: string;
  readonly column: string | null;
  /** The effective tags of the table, or of the column when one is asked about. */
  readonly tags: readonly TagOrigin[];
  readonly policies: readonly PolicyVerdict[];
  /** What the warehouse holds for the grantee on this table. */
  readonly held: readonly Grant[];
}

export interface ExplainInput {
  readonly snapshot: CatalogSnapshot;
  /** Whether a Lake Formation principal maps to the grantee asked about (the mapping decides). */
  readonly isGrantee: (principal: string) => boolean;
  readonly database: string;
  readonly table: string;
  readonly column?: string;
  readonly held: readonly Grant[];
}

/**
 * "Why can (or can't) this grantee read this?": every TABLE policy of the grantee's principals,
 * evaluated with Lake Formation's rules (inheritance database -> table -> column, AND across keys,
 * OR within a key) on the table's columns, with the keys that fail and where each tag comes from.
 */
export function explainAccess(input: ExplainInput): Explanation | undefined {
  const located = locate(input.snapshot, input.database, input.table);
  if (located === undefined) return undefined;
  const { database, table } = located;
  const column = input.column === undefined ? undefined : table.columns.find((c) => c.name === input.column);
  if (input.column !== undefined && column === undefined) return undefined;
  const tags = column === undefined ? tableTagOrigins(database, table) : columnTagOrigins(database, table, column);
  const columns = column === undefined ? table.columns : [column];
  const policies = input.snapshot.policies
    .filter((p) => p.resourceType === "TABLE" && input.isGrantee(p.principal))
    .map((p) => verdict(p, input.snapshot.expressions, database, table, columns, tags));
  return { database: database.name, table: table.name, column: column?.name ?? null, tags, policies, held: input.held };
}

function locate(snapshot: CatalogSnapshot, database: string, table: string): { database: DatabaseEntry; table: TableEntry } | undefined {
  const db = snapshot.databases.find((d) => d.name === database);
  const t = db?.tables.find((x) => x.name === table);
  return db === undefined || t === undefined ? undefined : { database: db, table: t };
}

function verdict(
  policy: PolicyEntry,
  expressions: CatalogSnapshot["expressions"],
  database: DatabaseEntry,
  table: TableEntry,
  columns: readonly ColumnEntry[],
  tags: readonly TagOrigin[],
): PolicyVerdict {
  const base = { principal: policy.principal, resourceType: policy.resourceType, permissions: policy.permissions };
  const expression = policyExpression(policy, expressions);
  if (expression === undefined) {
    return { ...base, expression: `${policy.expressionName ?? ""} (missing saved expression)`, outcome: "skipped", matchedColumns: [], failing: [], note: "the saved expression does not exist" };
  }
  const text = policy.expressionName === undefined ? describeExpression(expression) : `${policy.expressionName}: ${describeExpression(expression)}`;
  if (policy.condition !== undefined) {
    return { ...base, expression: text, outcome: "skipped", matchedColumns: [], failing: [], note: "has a condition, which Redshift cannot express" };
  }
  const matched = columns.filter((c) => failingKeys(expression, columnTagOrigins(database, table, c)).length === 0).map((c) => c.name);
  const outcome = columns.length > 0 && matched.length === columns.length ? "full" : matched.length > 0 ? "columns" : "none";
  const noColumns = columns.length === 0 && failingKeys(expression, tags).length === 0;
  return { ...base, expression: text, outcome: noColumns ? "full" : outcome, matchedColumns: matched, failing: failingKeys(expression, tags) };
}

/** The expression's keys the tags do not satisfy (LF: a missing key never matches). */
export function failingKeys(expression: Expression, tags: readonly TagOrigin[]): FailingKey[] {
  const values = tagValues(tags);
  const failing: FailingKey[] = [];
  for (const key of Object.keys(expression).sort()) {
    const allowed = expression[key] ?? [];
    const value = values[key];
    if (value !== undefined && value !== "*" && allowed.includes(value)) continue;
    failing.push({ key, allowed, actual: tags.find((t) => t.key === key) ?? null });
  }
  return failing;
}
