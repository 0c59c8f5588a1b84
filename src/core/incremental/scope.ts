import type { CatalogSnapshot, DatabaseEntry, Expression, PolicyEntry, TableEntry } from "../../catalog/model.js";
import { policyExpression } from "../resolve.js";
import { effectiveTags, matchesExpression } from "../tags.js";
import type { CatalogPatch } from "./patch.js";

/**
 * The slots a change can reach, in Glue names: per database, its schema slots (USAGE, CREATE) and
 * either every table (`"all"`) or the listed ones. Slots outside it keep their desired grants.
 */
export interface ChangeScope {
  readonly databases: ReadonlyMap<string, ReadonlySet<string> | "all">;
}

export type ScopeVerdict =
  | { readonly kind: "scoped"; readonly scope: ChangeScope; readonly tables: number }
  | { readonly kind: "full"; readonly reason: string };

export interface ScopeLimits {
  /** A change reaching more tables than this is left to a full run. */
  readonly maxTables: number;
}

/**
 * Which slots `patch` can change, comparing the snapshot before and after it (both complete). A
 * change whose reach cannot be bounded within `limits` asks for a full run.
 */
export function changeScope(before: CatalogSnapshot, after: CatalogSnapshot, patch: CatalogPatch, limits: ScopeLimits): ScopeVerdict {
  const databases = new Map<string, Set<string> | "all">();
  const addTable = (database: string, table: string): void => {
    const entry = databases.get(database) ?? new Set<string>();
    if (entry !== "all") databases.set(database, entry.add(table));
  };
  const addSchema = (database: string): void => {
    if (!databases.has(database)) databases.set(database, new Set());
  };

  switch (patch.kind) {
    case "table": {
      const was = findTable(before, patch.database, patch.name);
      if (!sameTable(was, patch.table)) addTable(patch.database, patch.name);
      break;
    }
    case "databaseTags": {
      const db = before.databases.find((d) => d.name === patch.database);
      // LF: every table and column inherits the database's tags (aws-facts §1.2).
      if (db !== undefined && JSON.stringify(sortedEntries(db.tags)) !== JSON.stringify(sortedEntries(patch.tags))) databases.set(db.name, "all");
      break;
    }
    case "policies":
      for (const policy of changedPolicies(before, after)) {
        const expression = policy.expression;
        for (const db of after.databases) {
          if (policy.resourceType === "DATABASE") {
            if (expression !== undefined && matchesExpression(expression, db.tags)) addSchema(db.name);
            continue;
          }
          for (const table of db.tables) if (expression !== undefined && tableTouched(expression, db, table)) addTable(db.name, table.name);
        }
      }
      break;
    case "tagOntology":
      // The ontology only lists allowed values; assignments and policies are what grant (DESIGN §2).
      break;
  }
  const tableCount = (name: string, entry: ReadonlySet<string> | "all"): number =>
    entry === "all" ? (after.databases.find((d) => d.name === name)?.tables.length ?? 0) : entry.size;
  const tables = [...databases].reduce((sum, [name, entry]) => sum + tableCount(name, entry), 0);
  if (tables > limits.maxTables) {
    return { kind: "full", reason: `the change reaches ${tables} tables, more than incremental.maxTables (${limits.maxTables})` };
  }
  return { kind: "scoped", scope: { databases }, tables };
}

function findTable(snapshot: CatalogSnapshot, database: string, name: string): TableEntry | null {
  return snapshot.databases.find((d) => d.name === database)?.tables.find((t) => t.name === name) ?? null;
}

function sameTable(a: TableEntry | null, b: TableEntry | null): boolean {
  if (a === null || b === null) return a === b;
  const shape = (t: TableEntry) => JSON.stringify([sortedEntries(t.tags), t.columns.map((c) => [c.name, sortedEntries(c.tags)])]);
  return shape(a) === shape(b);
}

function sortedEntries(record: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.keys(record)
    .sort()
    .map((k) => [k, record[k]]);
}

/** A TABLE policy reaches a table when the table or any of its columns matches (DESIGN §2: column-precise). */
function tableTouched(expression: Expression, db: DatabaseEntry, table: TableEntry): boolean {
  const tableTags = effectiveTags(db.tags, table.tags);
  if (matchesExpression(expression, tableTags)) return true;
  return table.columns.some((c) => matchesExpression(expression, effectiveTags(tableTags, c.tags)));
}

interface ComparablePolicy {
  readonly resourceType: PolicyEntry["resourceType"];
  /** The expression in force (a saved one resolved); undefined matches nothing. */
  readonly expression: Expression | undefined;
}

/**
 * Policies present on one side only, compared with their expression in force: editing a saved
 * expression changes every policy that names it (aws-facts §1.6). An empty expression matches
 * nothing in the resolver, and nothing here either.
 */
function changedPolicies(before: CatalogSnapshot, after: CatalogSnapshot): ComparablePolicy[] {
  const keyed = (snapshot: CatalogSnapshot) =>
    new Map(
      snapshot.policies.map((policy) => {
        const expression = policyExpression(policy, snapshot.expressions);
        const usable = expression !== undefined && Object.keys(expression).length > 0 ? expression : undefined;
        const key = JSON.stringify([policy.principal, policy.resourceType, policy.expressionName ?? null, usable === undefined ? null : sortedEntries(usable), [...policy.permissions].sort(), [...(policy.permissionsWithGrantOption ?? [])].sort(), policy.condition ?? null]);
        return [key, { resourceType: policy.resourceType, expression: usable }];
      }),
    );
  const was = keyed(before);
  const now = keyed(after);
  const changed: ComparablePolicy[] = [];
  for (const [key, policy] of was) if (!now.has(key)) changed.push(policy);
  for (const [key, policy] of now) if (!was.has(key)) changed.push(policy);
  return changed;
}
