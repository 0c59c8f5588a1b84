import type { CatalogSnapshot } from "../../catalog/model.js";
import type { MappingConfig, SafetyConfig } from "../../config/schema.js";
import { type Diagnostic } from "../diagnostics.js";
import { GrantColumns, type GrantRegistry } from "../grant-columns.js";
import { type Dialect, type Grant, type Grantee, type RecordedGrant, tableKey } from "../grants.js";
import type { InventoryLike } from "../inventory-view.js";
import type { OwnershipMode } from "../ownership.js";
import { foldIdentifier, mapEntitlements, schemaMapper } from "../map.js";
import { type Plan, planChanges } from "../plan.js";
import { doableDesired } from "../plan/doable.js";
import { listedColumns } from "../plan/unlisted-columns.js";
import type { PolicyRef } from "../policy-ref.js";
import { resolvePolicies } from "../resolve.js";
import type { ChangeScope } from "./scope.js";

/** A change scope in Redshift names: schema slots of `schemas`, every slot of `tables`. */
export interface TargetScope {
  readonly schemas: readonly string[];
  readonly tables: readonly { readonly schema: string; readonly table: string }[];
}

export interface ScopedDesired {
  readonly target: TargetScope;
  /** Desired grants on the scope's objects only, over `registry`: exactly those a full run would compute there. */
  readonly desired: GrantColumns;
  readonly registry: GrantRegistry;
  /** The policies the desired grants' `because` ids refer to. */
  readonly policies: readonly PolicyRef[];
  /** The columns the catalog lists for each scoped table (the full run's unlisted-columns gate). */
  readonly listed: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every grantee a policy maps to (the inventory reads their holdings). */
  readonly grantees: readonly Grantee[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Desired grants of the scope's slots. Resolves every database that can share a Redshift schema
 * with a scoped one, in full: a schema's USAGE follows from any of its tables (DESIGN §3), and a
 * table's grants follow from its own tags and every policy (all policies are kept, in order, so
 * their labels match a full run's).
 */
export function scopedDesired(snapshot: CatalogSnapshot, scope: ChangeScope, mapping: MappingConfig, dialect: Dialect): ScopedDesired {
  const schemaOf = schemaMapper(mapping);
  const redshiftSchema = (database: string): string | null => {
    const schema = schemaOf(database);
    return schema === null ? null : foldIdentifier(schema, dialect);
  };
  // A superset of the databases that can land in a scoped schema: renames and case folding only.
  const shareKey = (database: string): string => (Object.hasOwn(mapping.databases.rename, database) ? mapping.databases.rename[database]! : database).toLowerCase();
  const keys = new Set([...scope.databases.keys()].map(shareKey));
  const databases = snapshot.databases.filter((db) => keys.has(shareKey(db.name)));
  const entitlements = resolvePolicies({ ...snapshot, databases });
  const state = mapEntitlements(entitlements, mapping, dialect);

  const schemas = new Set<string>();
  const tables = new Map<string, { schema: string; table: string }>();
  for (const [database, listed] of scope.databases) {
    const schema = redshiftSchema(database);
    if (schema === null) continue;
    schemas.add(schema);
    const names = listed === "all" ? (snapshot.databases.find((d) => d.name === database)?.tables.map((t) => t.name) ?? []) : [...listed];
    for (const name of names) {
      const table = foldIdentifier(name, dialect);
      if (table !== null) tables.set(tableKey(schema, table), { schema, table });
    }
  }
  const target: TargetScope = { schemas: [...schemas].sort(), tables: [...tables.values()] };
  return {
    target,
    desired: rowsInScope(state.columns, state.registry, target),
    registry: state.registry,
    policies: state.policies,
    listed: listedColumns({ ...snapshot, databases }, mapping, dialect),
    grantees: state.grantees,
    diagnostics: [...entitlements.diagnostics, ...state.diagnostics],
  };
}

/** The rows of `columns` whose slot lies in the target scope. */
function rowsInScope(columns: GrantColumns, registry: GrantRegistry, target: TargetScope): GrantColumns {
  const schemas = new Set(target.schemas);
  const tables = new Set(target.tables.map((t) => tableKey(t.schema, t.table)));
  const objectInScope = registry.objects.map((o) => (o.table === null ? schemas.has(o.schema) : tables.has(tableKey(o.schema, o.table))));
  const kept = new GrantColumns();
  for (let i = 0; i < columns.length; i++) {
    if (objectInScope[columns.object[i]!] === true) kept.push(columns.grantee[i]!, columns.privilege[i]!, columns.object[i]!, columns.columns[i]!, columns.because[i]!);
  }
  return kept;
}

/** Whether a grant's slot lies in the target scope. */
export function isInScope(target: TargetScope): (grant: Grant) => boolean {
  const schemas = new Set(target.schemas);
  const tables = new Set(target.tables.map((t) => tableKey(t.schema, t.table)));
  return (grant) => (grant.object.table === null ? schemas.has(grant.object.schema) : tables.has(tableKey(grant.object.schema, grant.object.table)));
}

export interface ScopedPlanInput {
  readonly scoped: ScopedDesired;
  /** Recorded grants read for the scope; rows outside it are left out here, never revoked. */
  readonly recorded: readonly RecordedGrant[];
  /** The inventory read for the scope (a wider one is cut to it). */
  readonly inventory: InventoryLike & { readonly held: readonly Grant[] };
  readonly dialect: Dialect;
  readonly policyCount: number;
  readonly safety: SafetyConfig;
  /** Recorded slots in the whole state: the revoke ratio is a share of all, as in a full run. */
  readonly recordedTotal: number;
  /** Ownership mode per grantee, as in the full plan. */
  readonly ownership?: (grantee: Grantee) => OwnershipMode;
  /** Schemas the mapping manages, as in the full plan. */
  readonly managedSchemas?: ReadonlySet<string>;
}

/**
 * The plan of the scope's slots: the steps a full plan has there. Slots outside the scope are not
 * visited at all, so nothing there is granted, revoked or forgotten.
 */
export function planScoped(input: ScopedPlanInput): Plan {
  const inScope = isInScope(input.scoped.target);
  const doable = doableDesired(input.scoped.desired, input.scoped.registry, input.inventory, input.scoped.listed);
  const plan = planChanges({
    desired: doable.desired,
    registry: input.scoped.registry,
    policies: input.scoped.policies,
    recorded: input.recorded.filter(inScope),
    inventory: { ...input.inventory, held: input.inventory.held.filter(inScope) },
    dialect: input.dialect,
    policyCount: input.policyCount,
    // The ratio is checked below against the whole state, not the scope's share of it.
    safety: { ...input.safety, maxRevokeRatio: 1 },
    force: false,
    diagnostics: [...input.scoped.diagnostics, ...doable.diagnostics],
    ...(input.ownership === undefined ? {} : { ownership: input.ownership }),
    ...(input.managedSchemas === undefined ? {} : { managedSchemas: input.managedSchemas }),
  });
  const { revokes } = plan.summary;
  if (input.recordedTotal === 0 || revokes / input.recordedTotal <= input.safety.maxRevokeRatio) return plan;
  const reason = `the plan revokes ${revokes} of ${input.recordedTotal} recorded grants, more than safety.maxRevokeRatio (${input.safety.maxRevokeRatio})`;
  return {
    policies: plan.policies,
    changes: plan.changes,
    steps: plan.steps,
    pending: plan.pending,
    unmanaged: plan.unmanaged,
    ownership: plan.ownership,
    warnings: plan.warnings,
    summary: plan.summary,
    safety: { refused: true, forced: false, reasons: [...plan.safety.reasons, reason] },
    complete: plan.complete,
    applyable: false,
  };
}
