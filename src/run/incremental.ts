import { randomUUID } from "node:crypto";
import type { CatalogSnapshot, ResourceReader } from "../catalog/model.js";
import type { Config } from "../config/schema.js";
import { managedSchemas } from "../core/access/warehouse-names.js";
import { granteeKey, type Grantee } from "../core/grants.js";
import { type CatalogPatch, patchSnapshot } from "../core/incremental/patch.js";
import { planScoped, scopedDesired } from "../core/incremental/replan.js";
import { type ChangeScope, changeScope } from "../core/incremental/scope.js";
import { ownershipResolver } from "../core/ownership.js";
import { type Plan, planSchemas } from "../core/plan.js";
import { describeError, SyncError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Lease, RunLock } from "../lock/lock.js";
import type { ResourceRead } from "../server/event-reads.js";
import type { SqlExecutor } from "../warehouse/executor.js";
import { checkTargetPermissions } from "../warehouse/preflight.js";
import { readRecordedScope } from "../warehouse/state-scope.js";
import { assertStateTrusted, recordRunEnd, recordRunStart } from "../warehouse/state-store.js";
import { applyPlan } from "./apply.js";
import { leaseTtlMs } from "./run-log.js";
import type { RunSummary } from "./reconcile.js";
import type { SnapshotCache } from "./snapshot-cache.js";
import { readInventory, targetKey } from "./wiring.js";
import { phaseTimer } from "./phase-timer.js";

export interface IncrementalDeps {
  readonly config: Config;
  readonly cache: SnapshotCache;
  readonly executor: SqlExecutor;
  readonly lock: RunLock;
  readonly logger: Logger;
  readonly shouldStop?: () => boolean;
  readonly now?: () => Date;
}

/** What an incremental run did: applied (or nothing to do), or why only a full run can answer. */
export type IncrementalOutcome =
  | { readonly kind: "applied"; readonly summary: RunSummary; readonly tables: number }
  | { readonly kind: "nothing"; readonly reason: string }
  | { readonly kind: "full"; readonly reason: string };

/**
 * Re-reads what the events name, patches the last full snapshot, and plans and applies the slots
 * the change can reach, reading their recorded state and inventory only (issue 11). Anything it
 * cannot bound, or a plan a safety rule refuses, is handed back as "full".
 */
export async function runIncremental(reads: readonly ResourceRead[], deps: IncrementalDeps): Promise<IncrementalOutcome> {
  const { config, cache } = deps;
  const now = deps.now ?? (() => new Date());
  const cached = cache.last();
  if (cached === null) return { kind: "full", reason: "no snapshot yet" };
  const ageSeconds = (now().getTime() - cached.readAt.getTime()) / 1000;
  if (ageSeconds > config.incremental.maxSnapshotAgeSeconds) return { kind: "full", reason: `the snapshot is ${Math.round(ageSeconds)} s old` };
  const reader = cache.source.resources;
  if (reader === undefined) return { kind: "full", reason: "the source cannot read single resources" };

  const timings: Record<string, number> = {};
  const readStarted = performance.now();
  const patches = await patchesOf(reads, cached.snapshot, reader);
  timings.source = Math.round(performance.now() - readStarted);
  if (typeof patches === "string") return { kind: "full", reason: patches };
  let snapshot = cached.snapshot;
  const scopes: ChangeScope[] = [];
  for (const patch of patches) {
    const next = patchSnapshot(snapshot, patch);
    if (next === null) return { kind: "full", reason: `the change names a database the snapshot does not know (${patch.kind === "table" || patch.kind === "databaseTags" ? patch.database : "?"})` };
    const verdict = changeScope(snapshot, next, patch, { maxTables: config.incremental.maxTables });
    if (verdict.kind === "full") return verdict;
    scopes.push(verdict.scope);
    snapshot = next;
  }
  const scope = unionScopes(scopes);
  if (scope.databases.size === 0) {
    cache.patch(snapshot);
    return { kind: "nothing", reason: "the re-read resources match the snapshot" };
  }
  return applyScope(snapshot, scope, deps, timings);
}

/** One patch per read; an UpdateTable whose columns match the snapshot needs no read at all. */
async function patchesOf(reads: readonly ResourceRead[], snapshot: CatalogSnapshot, reader: ResourceReader): Promise<CatalogPatch[] | string> {
  const patches: CatalogPatch[] = [];
  let policiesRead = false;
  for (const read of reads) {
    if (read.kind === "policies") {
      if (policiesRead) continue;
      policiesRead = true;
      const { policies, expressions } = await reader.readPolicies();
      patches.push({ kind: "policies", policies, expressions });
    } else if (read.kind === "database") {
      const tags = await reader.readDatabaseTags(read.database);
      if (tags === null) return `database ${read.database} is gone`;
      patches.push({ kind: "databaseTags", database: read.database, tags });
    } else {
      const known = snapshot.databases.find((d) => d.name === read.database)?.tables.find((t) => t.name === read.table);
      if (read.columns !== undefined && known !== undefined && sameNames(known.columns.map((c) => c.name), read.columns)) continue;
      patches.push({ kind: "table", database: read.database, name: read.table, table: await reader.readTable(read.database, read.table) });
    }
  }
  return patches;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

function unionScopes(scopes: readonly ChangeScope[]): ChangeScope {
  const databases = new Map<string, Set<string> | "all">();
  for (const scope of scopes) {
    for (const [database, tables] of scope.databases) {
      const previous = databases.get(database) ?? new Set<string>();
      databases.set(database, previous === "all" || tables === "all" ? "all" : new Set([...previous, ...tables]));
    }
  }
  return { databases };
}

/** Up to this many tables in scope, the inventory reads them by name; beyond, whole schemas. */
const LISTED_TABLES_MAX = 500;

/**
 * Plans the scope under the lease and applies it, recording the run like a full one ("incremental").
 * `timings` (ms per phase, logged with the run) show where an event's latency goes.
 */
async function applyScope(snapshot: CatalogSnapshot, scope: ChangeScope, deps: IncrementalDeps, timings: Record<string, number>): Promise<IncrementalOutcome> {
  const { config, executor, logger } = deps;
  const runId = randomUUID();
  const started = performance.now();
  const log = logger.child({ runId });
  const lease = await deps.lock.acquire(targetKey(config), `${process.pid}@${runId}`).catch((cause: unknown) => cause as Error);
  if (lease instanceof Error) return { kind: "full", reason: `lease: ${describeError(lease)}` };
  const timed = phaseTimer(timings);
  try {
    const scoped = await timed("desired", () => scopedDesired(snapshot, scope, config.mapping, executor.dialect));
    // Trusted before it is read or written, as a full run checks it (issue 13 item 1): a view or trigger there runs as the service.
    const recorded = await timed("recorded", async () => (await assertStateTrusted(executor, config.stateSchema), readRecordedScope(executor, config.stateSchema, scoped.target)));
    const grantees = new Map<string, Grantee>();
    for (const g of [...scoped.grantees, ...recorded.grants.map((r) => r.grantee)]) grantees.set(granteeKey(g), g);
    const inventory = await timed("inventory", () =>
      readInventory(executor, {
        grantees: [...grantees.values()],
        excludeSchemas: [config.stateSchema],
        onlySchemas: scoped.target.schemas,
        // A few named tables: their rows only, not their whole schemas' (a tag change on one table of 5k).
        ...(scoped.target.tables.length > 0 && scoped.target.tables.length <= LISTED_TABLES_MAX ? { onlyTables: scoped.target.tables } : {}),
      }),
    );
    const plan = await timed("plan", () => planScoped({
      scoped,
      recorded: recorded.grants,
      inventory,
      dialect: executor.dialect,
      policyCount: snapshot.policies.length,
      safety: config.safety,
      recordedTotal: recorded.total,
      // As in a full run (compute-plan.ts): the same modes, and external schemas never managed.
      ownership: ownershipResolver(config.ownership),
      managedSchemas: managedSchemas(snapshot, config.mapping, executor.dialect, inventory.externalSchemas),
    }));
    if (plan.safety.refused) return { kind: "full", reason: `safety: ${plan.safety.reasons.join("; ")}` };
    const summary = await timed("apply", () => applyRecorded(plan, runId, lease, deps));
    log.info(
      { summary: plan.summary, tables: scoped.target.tables.length, schemas: scoped.target.schemas.length, durationMs: Math.round(performance.now() - started), timings },
      `incremental run ${summary.status}`,
    );
    if (summary.status !== "succeeded") return { kind: "full", reason: `the incremental run ${summary.status}: ${summary.error === null ? "" : describeError(summary.error)}` };
    deps.cache.patch(snapshot);
    return { kind: "applied", summary, tables: scoped.target.tables.length };
  } finally {
    await lease.release().catch((cause: unknown) => log.warn({ err: cause }, "could not release the lease"));
  }
}

async function applyRecorded(plan: Plan, runId: string, lease: Lease, deps: IncrementalDeps): Promise<RunSummary> {
  const { config, executor } = deps;
  const now = deps.now ?? (() => new Date());
  const started = performance.now();
  const startedAt = now();
  await recordRunStart(executor, config.stateSchema, { runId, command: "incremental", startedAt, fencingToken: lease.fencingToken, interruptedBefore: new Date(startedAt.getTime() - leaseTtlMs(config.lock)) });
  let error: SyncError | null;
  let result: Awaited<ReturnType<typeof applyPlan>> | null = null;
  try {
    const schemas = planSchemas(plan);
    if (schemas.length > 0) await checkTargetPermissions(executor, { schemas });
    result = await applyPlan(executor, plan, { stateSchema: config.stateSchema, runId, at: now(), lease, ...(deps.shouldStop ? { shouldStop: deps.shouldStop } : {}) });
    error = result.error ?? null;
  } catch (cause) {
    error = cause instanceof SyncError ? cause : new SyncError("TARGET_FAILED", describeError(cause), { cause });
  }
  const status = error === null ? "succeeded" : "failed";
  await recordRunEnd(executor, config.stateSchema, {
    runId,
    status,
    finishedAt: now(),
    grants: result?.appliedChanges.grants ?? 0,
    revokes: result?.appliedChanges.revokes ?? 0,
    pending: plan.summary.pending,
    batchesApplied: result?.batches.filter((b) => b === "applied").length ?? 0,
    batchesTotal: result?.batches.length ?? 0,
    // Tag assignments are recorded by full runs only: null makes the next full run write them.
    catalogHash: null,
    message: error === null ? null : describeError(error).slice(0, 4000),
  });
  return { runId, status, plan, result, error, fencingToken: lease.fencingToken, durationMs: Math.round(performance.now() - started) };
}
