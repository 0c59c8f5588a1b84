import type { CatalogSnapshot, ColumnEntry, DatabaseEntry, Expression, PolicyEntry, PolicyResourceType, TableEntry, TagMap } from "../../src/catalog/model.js";
import { mappingSchema, safetySchema, type MappingConfig } from "../../src/config/schema.js";
import { type Entitlements, tableEntitlements } from "../../src/core/resolve.js";
import type { DesiredGrant, Grant, Grantee, Privilege, RecordedGrant } from "../../src/core/grants.js";
import { granteeKey, tableKey } from "../../src/core/grants.js";
import type { InventoryLike } from "../../src/core/inventory-view.js";
import type { PlanInput } from "../../src/core/plan.js";

/** Tiny builders so a test can state a catalog in a few lines. Tag maps are already lower-cased. */

export const ACCOUNT = "123456789012";

/** `arn:aws:iam::123456789012:role/<name>`: the default mapping turns it into group <name>. */
export function role(name: string): string {
  return `arn:aws:iam::${ACCOUNT}:role/${name}`;
}

/** `"email"` or `["email", { pii: "true" }]`. */
export type ColumnSpec = string | readonly [string, TagMap];

export function column(spec: ColumnSpec): ColumnEntry {
  return typeof spec === "string" ? { name: spec, tags: {} } : { name: spec[0], tags: spec[1] };
}

export function table(name: string, tags: TagMap, columns: readonly ColumnSpec[]): TableEntry {
  return { name, tags, columns: columns.map(column) };
}

export function database(name: string, tags: TagMap, tables: readonly TableEntry[]): DatabaseEntry {
  return { name, tags, tables };
}

export function policy(
  principal: string,
  resourceType: PolicyResourceType,
  expression: Expression | string,
  permissions: readonly string[],
  extra: Partial<PolicyEntry> = {},
): PolicyEntry {
  const body = typeof expression === "string" ? { expressionName: expression } : { expression };
  return { principal, resourceType, ...body, permissions, ...extra };
}

export function catalog(parts: {
  databases: readonly DatabaseEntry[];
  policies: readonly PolicyEntry[];
  expressions?: Readonly<Record<string, Expression>>;
}): CatalogSnapshot {
  return { catalogId: ACCOUNT, tags: {}, databases: parts.databases, expressions: parts.expressions ?? {}, policies: parts.policies };
}

export function defaultMapping(overrides: Record<string, unknown> = {}): MappingConfig {
  return mappingSchema.parse(overrides);
}

export function group(name: string): Grantee {
  return { kind: "group", name };
}

/**
 * A grant from a compact object path: `"sales"` (schema), `"sales.orders"` (table) or
 * `"sales.orders(id,amount)"` (column subset). Names in these paths must not contain `.`, `(` or `,`.
 */
export function grant(grantee: Grantee | string, privilege: Privilege, path: string): Grant {
  const m = /^([^.(]+)(?:\.([^(]+))?(?:\(([^)]*)\))?$/.exec(path);
  if (m === null) throw new Error(`bad path ${path}`);
  const columns = m[3] === undefined ? null : m[3].split(",").sort();
  return {
    grantee: typeof grantee === "string" ? group(grantee) : grantee,
    privilege,
    object: { schema: m[1]!, table: m[2] ?? null, columns },
  };
}

export function desired(grantee: Grantee | string, privilege: Privilege, path: string, because: readonly string[] = ["policy#0"]): DesiredGrant {
  return { ...grant(grantee, privilege, path), because };
}

export function recorded(grantee: Grantee | string, privilege: Privilege, path: string, because: readonly string[] = ["policy#0"]): RecordedGrant {
  return { ...grant(grantee, privilege, path), because, runId: "run-0" };
}

/** Inventory from `{ "sales.orders": ["id", "amount"] }`; schemas are derived from the tables plus `schemas`. */
export function inventory(parts: {
  tables: Readonly<Record<string, readonly string[]>>;
  grantees: readonly (Grantee | string)[];
  held?: readonly Grant[];
  schemas?: readonly string[];
}): InventoryLike & { readonly held: readonly Grant[] } {
  const tables = new Map<string, ReadonlySet<string>>();
  const schemas = new Set(parts.schemas ?? []);
  for (const [path, columns] of Object.entries(parts.tables)) {
    const [schema, name] = path.split(".") as [string, string];
    schemas.add(schema);
    tables.set(tableKey(schema, name), new Set(columns));
  }
  return {
    schemas,
    tables,
    grantees: new Set(parts.grantees.map((g) => granteeKey(typeof g === "string" ? group(g) : g))),
    held: parts.held ?? [],
  };
}

export function planInput(parts: Partial<PlanInput> & { inventory: InventoryLike }): PlanInput {
  return {
    desired: [],
    recorded: [],
    dialect: "redshift",
    policyCount: 1,
    safety: safetySchema.parse({ maxRevokes: 1000, maxRevokeRatio: 1 }),
    force: false,
    diagnostics: [],
    ...parts,
  };
}

/**
 * Entitlements as sorted lines: `analyst sales.orders SELECT` (table level),
 * `analyst sales.orders SELECT(amount,id)` (column subset), `analyst sales DESCRIBE` (database).
 */
export function entitlementLines(e: Entitlements): string[] {
  const who = (p: string) => p.replace(/^.*:role\//, "");
  const lines: string[] = [];
  for (const d of e.databases) for (const p of d.permissions.keys()) lines.push(`${who(d.principal)} ${d.database} ${p}`);
  for (const t of tableEntitlements(e)) {
    for (const p of t.full.keys()) lines.push(`${who(t.principal)} ${t.database}.${t.table} ${p}`);
    if (t.columnSelect !== null) lines.push(`${who(t.principal)} ${t.database}.${t.table} SELECT(${t.columnSelect.columns.join(",")})`);
  }
  return lines.sort();
}
