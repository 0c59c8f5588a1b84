import { createHash } from "node:crypto";
import type { CatalogSnapshot, CatalogSource } from "../catalog/model.js";
import type { Config } from "../config/schema.js";
import { warning } from "../core/diagnostics.js";
import { granteeKey, type Grantee } from "../core/grants.js";
import { type DesiredState, mapEntitlements } from "../core/map.js";
import { managedSchemas as managedSchemasOf } from "../core/access/warehouse-names.js";
import type { TargetInventory } from "../warehouse/inventory-model.js";
import { type Plan, planChanges } from "../core/plan.js";
import { doableDesired } from "../core/plan/doable.js";
import { listedColumns } from "../core/plan/unlisted-columns.js";
import { resolvePolicies } from "../core/resolve.js";
import { ownershipResolver } from "../core/ownership.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import type { Row } from "../warehouse/executor.js";
import { assertStateTrusted, readRecordedRows, recordedColumnsOf } from "../warehouse/state-store.js";
import { readInventory } from "./wiring.js";
import { phaseTimer } from "./phase-timer.js";

export interface PlanResult {
  readonly plan: Plan;
  readonly snapshot: CatalogSnapshot;
  /** What the plan was computed from: the access report reads the same. */
  readonly desired: DesiredState;
  readonly inventory: TargetInventory;
  /** Schemas the mapping manages (one per included catalog database). */
  readonly managedSchemas: ReadonlySet<string>;
  /** sha256 of the catalog as read: recorded with the run, tells whether tag assignments changed. */
  readonly catalogHash: string;
  readonly timings: Readonly<Record<string, number>>;
}

export interface ProgressSink {
  (phase: "reading source" | "resolving" | "reading target" | "planning", detail?: string): void;
}

/**
 * Everything up to the plan: read-only on both sides, so it serves `plan`, `GET /plan` and the
 * first half of `apply`. Works before the state schema exists (nothing recorded yet); refuses
 * (STATE_UNTRUSTED) to read one that someone else controls.
 */
export async function computePlan(options: {
  readonly config: Config;
  readonly source: CatalogSource;
  readonly executor: SqlExecutor;
  readonly force?: boolean;
  readonly progress?: ProgressSink;
}): Promise<PlanResult> {
  const { config, source, executor } = options;
  const progress = options.progress ?? (() => undefined);
  const timings: Record<string, number> = {};
  const timed = phaseTimer(timings);

  // The state rows are read while the source is (the target works while this process parses). A
  // SELECT runs the functions of whoever controls the schema (a view): read only a trusted one.
  const recordedRows = timed("recorded", async () => (await assertStateTrusted(executor, config.stateSchema), readRecordedRows(executor, config.stateSchema)));
  recordedRows.catch(() => undefined); // awaited below; a failure while the source is read stays handled
  progress("reading source");
  const { snapshot, warnings: sourceWarnings } = await timed("source", () => source.read());
  progress("resolving");
  const entitlements = await timed("resolve", () => resolvePolicies(snapshot));
  const desired = await timed("map", () => mapEntitlements(entitlements, config.mapping, executor.dialect));
  progress("reading target");
  const rows = await recordedRows;
  const inventoryRead = timed("inventory", () =>
    readInventory(executor, { grantees: granteesOf(desired.grantees, rows), excludeSchemas: [config.stateSchema] }),
  );
  inventoryRead.catch(() => undefined); // awaited below, once the recorded rows are columns
  const recorded = await timed("expand", () => recordedColumnsOf(rows, desired.registry));
  const inventory = await inventoryRead;
  // External (Spectrum) schemas are Lake Formation's own business: never reported or revoked as unmanaged.
  const managedSchemas = managedSchemasOf(snapshot, config.mapping, executor.dialect, inventory.externalSchemas);
  progress("planning");
  const doable = doableDesired(desired.columns, desired.registry, inventory, listedColumns(snapshot, config.mapping, executor.dialect));
  const plan = await timed("plan", () =>
    planChanges({
      desired: doable.desired,
      registry: desired.registry,
      recorded,
      inventory,
      dialect: executor.dialect,
      policies: desired.policies,
      policyCount: snapshot.policies.length,
      safety: config.safety,
      force: options.force ?? false,
      ownership: ownershipResolver(config.ownership),
      managedSchemas,
      diagnostics: [...sourceWarnings.map(warning), ...entitlements.diagnostics, ...desired.diagnostics, ...doable.diagnostics],
    }),
  );
  const catalogHash = createHash("sha256").update(JSON.stringify(snapshot)).digest("hex");
  return { plan, snapshot, desired, inventory, managedSchemas, catalogHash, timings };
}

/**
 * The grantees the inventory reads: the desired ones and those of the recorded rows (a row naming
 * no valid grantee is refused when the rows are read as grants).
 */
function granteesOf(desired: readonly Grantee[], rows: readonly Row[]): Grantee[] {
  const grantees = new Map<string, Grantee>();
  for (const g of desired) grantees.set(granteeKey(g), g);
  for (const { grantee_kind: kind, grantee: name } of rows) {
    if ((kind === "group" || kind === "role") && typeof name === "string") grantees.set(`${kind}:${name}`, { kind, name });
  }
  return [...grantees.values()];
}
