import type { CatalogSource } from "../catalog/model.js";
import type { Config } from "../config/schema.js";
import { type AccessRow, accessRows, filterRows } from "../core/access/access-rows.js";
import { CatalogIndex } from "../core/access/catalog-index.js";
import { type Explanation, explainAccess } from "../core/access/explain.js";
import { warehouseNames } from "../core/access/warehouse-names.js";
import type { DesiredGrant } from "../core/grants.js";
import { type DesiredState, granteeOfPrincipal } from "../core/map.js";
import type { PolicyRef } from "../core/policy-ref.js";
import { SyncError } from "../errors.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { computePlan } from "./compute-plan.js";

export interface AccessFilter {
  readonly grantee?: string | undefined;
  readonly schema?: string | undefined;
  readonly table?: string | undefined;
}

export interface AccessReport {
  readonly rows: readonly AccessRow[];
  readonly generatedAt: Date;
}

interface ReadOptions {
  readonly config: Config;
  readonly source: CatalogSource;
  readonly executor: SqlExecutor;
}

/**
 * The current effective access (README "Access report"): read exactly what a plan reads, through
 * the same resolver and mapper, and lay desired next to held instead of diffing them.
 */
export async function computeAccess(options: ReadOptions & { readonly filter?: AccessFilter }): Promise<AccessReport> {
  const { config, executor } = options;
  const result = await computePlan(options);
  const catalog = new CatalogIndex(result.snapshot, warehouseNames(config.mapping, executor.dialect));
  const rows = accessRows({
    // One grant object at a time: rows keep the grants' parts, and 300k objects kept for the
    // report's lifetime (DesiredState.grants) would only add to its peak.
    desired: grantsOf(result.desired),
    held: result.inventory.held,
    managedSchemas: result.managedSchemas,
    policyOf: policyLookup(result.desired.policies),
    catalog,
  });
  return { rows: filterRows(rows, options.filter ?? {}), generatedAt: new Date() };
}

function* grantsOf(desired: DesiredState): Generator<DesiredGrant> {
  for (let i = 0; i < desired.columns.length; i++) yield desired.columns.grantAt(i, desired.registry);
}

/** `because` entries are policy ids; an id the list lacks (an older state row) is shown as it is. */
function policyLookup(policies: readonly PolicyRef[]): (id: string) => PolicyRef {
  const byId = new Map(policies.map((p) => [p.id, p]));
  return (id) => byId.get(id) ?? { id, principal: "(unknown)", resourceType: "TABLE", expression: id, permissions: [] };
}

export interface ExplainRequest {
  readonly grantee: string;
  /** `schema.table` as the warehouse names it. */
  readonly table: string;
  readonly column?: string | undefined;
}

/**
 * "Why can (or can't) this grantee read this table?": the grantee's policies evaluated on the
 * table's (or column's) effective tags, with where each tag comes from, and what Redshift holds.
 */
export async function computeExplanation(options: ReadOptions & { readonly request: ExplainRequest }): Promise<Explanation> {
  const { config, executor, request } = options;
  const [schema, table, ...rest] = request.table.split(".");
  if (schema === undefined || table === undefined || rest.length > 0) {
    throw new SyncError("CONFIG_INVALID", `--table must be schema.table, got ${JSON.stringify(request.table)}`);
  }
  const result = await computePlan(options);
  const catalog = new CatalogIndex(result.snapshot, warehouseNames(config.mapping, executor.dialect));
  const glue = catalog.table(schema, table);
  const all = catalog.tablesAt(schema, table);
  if (all.length > 1) {
    const names = all.map((t) => `${t.database.name}.${t.table.name}`).join(", ");
    throw new SyncError("CONFIG_INVALID", `catalog tables ${names} all map to ${schema}.${table}: nothing is granted on it (the plan reports the collision)`);
  }
  if (glue === undefined) throw new SyncError("CONFIG_INVALID", `no catalog table maps to ${schema}.${table}`);
  const granteeOf = granteeOfPrincipal(config.mapping, executor.dialect, result.snapshot.catalogId);
  const held = result.inventory.held.filter((g) => g.grantee.name === request.grantee && g.object.schema === schema && (g.object.table === table || g.object.table === null));
  const explanation = explainAccess({
    snapshot: result.snapshot,
    isGrantee: (principal) => granteeOf(principal)?.name === request.grantee,
    database: glue.database.name,
    table: glue.table.name,
    ...(request.column === undefined ? {} : { column: request.column }),
    held,
  });
  if (explanation === undefined) throw new SyncError("CONFIG_INVALID", `${schema}.${table} has no column ${JSON.stringify(request.column)}`);
  return explanation;
}
